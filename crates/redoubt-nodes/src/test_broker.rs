//! A real MQTT broker for tests: Debian's mosquitto, started on a free
//! loopback port with a generated configuration in a private directory.
//! A test that cannot start it fails (it never skips).

use std::io::Write;
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// Options for [`Mosquitto::start`].
#[derive(Default, Clone)]
pub struct BrokerOptions {
    /// Keep sessions and retained messages on disk across restarts.
    pub persistence: bool,
    /// Require this user name and password (a mosquitto password file).
    pub user: Option<(String, String)>,
    /// Serve TLS with these PEM files: (ca, cert, key); clients must
    /// present a certificate signed by the CA.
    pub tls: Option<(PathBuf, PathBuf, PathBuf)>,
}

/// A running mosquitto; killed on drop.
pub struct Mosquitto {
    child: Option<Child>,
    /// The port it listens on (127.0.0.1).
    pub port: u16,
    dir: PathBuf,
}

/// The mosquitto binary: on `PATH` or Debian's `/usr/sbin/mosquitto`.
pub fn mosquitto_binary() -> PathBuf {
    let on_path = std::env::var_os("PATH").and_then(|p| {
        std::env::split_paths(&p)
            .map(|d| d.join("mosquitto"))
            .find(|f| f.is_file())
    });
    on_path.unwrap_or_else(|| PathBuf::from("/usr/sbin/mosquitto"))
}

fn free_port() -> u16 {
    let l = std::net::TcpListener::bind("127.0.0.1:0").expect("bind a free port");
    l.local_addr().expect("local addr").port()
}

impl Mosquitto {
    /// Starts mosquitto; panics (failing the test) when it does not listen within 10 s.
    pub fn start(opts: BrokerOptions) -> Mosquitto {
        let dir =
            std::env::temp_dir().join(format!("redoubt-mosquitto-{:016x}", rand::random::<u64>()));
        std::fs::create_dir_all(&dir).expect("broker directory");
        let port = free_port();
        // `user root`: when the tests run as root, mosquitto would otherwise
        // switch to the `mosquitto` user and lose access to this directory.
        let mut conf = format!("user root\nlistener {port} 127.0.0.1\n");
        match &opts.user {
            Some((u, p)) => {
                let pwfile = dir.join("passwords");
                let st = Command::new("mosquitto_passwd")
                    .arg("-b")
                    .arg("-c")
                    .arg(&pwfile)
                    .args([u, p])
                    .status()
                    .expect("mosquitto_passwd must be installed (Debian package mosquitto)");
                assert!(st.success(), "mosquitto_passwd failed");
                conf.push_str(&format!(
                    "allow_anonymous false\npassword_file {}\n",
                    pwfile.display()
                ));
            }
            None => conf.push_str("allow_anonymous true\n"),
        }
        if let Some((ca, cert, key)) = &opts.tls {
            conf.push_str(&format!(
                "cafile {}\ncertfile {}\nkeyfile {}\nrequire_certificate true\n",
                ca.display(),
                cert.display(),
                key.display()
            ));
        }
        if opts.persistence {
            conf.push_str(&format!(
                "persistence true\npersistence_location {}/\nautosave_interval 1\n",
                dir.display()
            ));
        }
        let mut f = std::fs::File::create(dir.join("mosquitto.conf")).expect("config");
        f.write_all(conf.as_bytes()).expect("config");
        let mut m = Mosquitto {
            child: None,
            port,
            dir,
        };
        m.spawn();
        m
    }

    fn spawn(&mut self) {
        let child = Command::new(mosquitto_binary())
            .arg("-c")
            .arg(self.dir.join("mosquitto.conf"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| {
                panic!(
                    "cannot start mosquitto ({}): {e}",
                    mosquitto_binary().display()
                )
            });
        self.child = Some(child);
        let deadline = Instant::now() + Duration::from_secs(10);
        while Instant::now() < deadline {
            if TcpStream::connect(("127.0.0.1", self.port)).is_ok() {
                return;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        panic!(
            "mosquitto did not listen on 127.0.0.1:{} within 10 s",
            self.port
        );
    }

    /// Stops it with SIGTERM (it saves its persistence database) and waits.
    pub fn stop(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = Command::new("kill")
                .args(["-TERM", &c.id().to_string()])
                .status();
            let deadline = Instant::now() + Duration::from_secs(10);
            while Instant::now() < deadline {
                if let Ok(Some(_)) = c.try_wait() {
                    return;
                }
                std::thread::sleep(Duration::from_millis(20));
            }
            let _ = c.kill();
            let _ = c.wait();
        }
    }

    /// Starts it again on the same port with the same configuration.
    pub fn restart(&mut self) {
        self.stop();
        self.spawn();
    }

    /// The directory holding its configuration (and persistence).
    pub fn dir(&self) -> &Path {
        &self.dir
    }
}

impl Drop for Mosquitto {
    fn drop(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}
