//! The runner's blocking calls: inputs that arrive while a call works
//! through its batch are handled by that same call, in order, rather than
//! after the runner task has been woken to hand them over.

use super::*;
use std::sync::mpsc as std_mpsc;

/// What a call held by [`Gate`] waits on: it says it has started on the
/// first, and waits for the second.
type Hold = (std_mpsc::Sender<()>, std_mpsc::Receiver<()>);

/// Records completions and the end of each blocking call (`flush(true)`);
/// the first completion waits until the test lets it go on.
struct Gate {
    log: Mutex<Vec<String>>,
    hold: Mutex<Option<Hold>>,
    context: NodeContext,
}

impl ScriptSink for Gate {
    fn send(&self, _port: usize, _msg: Msg) {}
    fn done(&self, id: u64, _result: Result<(), NodeError>) {
        let hold = self.hold.lock().take();
        if let Some((started, go_on)) = hold {
            let _ = started.send(());
            let _ = go_on.recv_timeout(Duration::from_secs(30));
        }
        self.log.lock().push(format!("done {id}"));
    }
    fn discard(&self, id: u64) {
        self.log.lock().push(format!("discard {id}"));
    }
    fn status(&self, _status: Status) {}
    fn error(&self, err: NodeError, _msg: Option<Msg>) {
        self.log.lock().push(format!("error {}", err.message));
    }
    fn log(&self, _level: LogLevel, _text: &str) {}
    fn context(&self) -> NodeContext {
        self.context.clone()
    }
    fn env(&self, _name: &str) -> Value {
        Value::Undefined
    }
    fn flush(&self, all: bool) {
        if all {
            self.log.lock().push("end of call".into());
        }
    }
}

fn msg(n: u64) -> Msg {
    Msg::from_json(&json!({ "payload": n }))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 1)]
async fn inputs_queued_during_a_call_are_handled_by_that_call() {
    let (started_tx, started) = std_mpsc::channel();
    let (go_on, go_on_rx) = std_mpsc::channel();
    let gate = Arc::new(Gate {
        log: Mutex::new(Vec::new()),
        hold: Mutex::new(Some((started_tx, go_on_rx))),
        context: context(),
    });
    let sb = match Sandbox::new(&spec("return msg;"), gate.clone()) {
        Ok(sb) => sb,
        Err(e) => panic!("compile: {e}"),
    };
    let runner = FunctionRunner::start(sb);
    runner.input(1, msg(1));
    // The call for input 1 is under way, held in its completion ...
    let first = tokio::task::spawn_blocking(move || started.recv_timeout(Duration::from_secs(30)));
    assert!(matches!(first.await, Ok(Ok(()))), "input 1 was not handled");
    // ... when three more arrive.
    for id in 2..=4 {
        runner.input(id, msg(id));
    }
    go_on.send(()).expect("the held call is waiting");
    let mut log = Vec::new();
    for _ in 0..3000 {
        log = gate.log.lock().clone();
        if log.len() >= 6 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(1)).await;
    }
    // On Start is a call of its own; then one call handles all four.
    assert_eq!(
        log,
        [
            "end of call",
            "done 1",
            "done 2",
            "done 3",
            "done 4",
            "end of call"
        ]
    );
    runner.close(true);
}
