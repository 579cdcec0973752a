//! Questions on the terminal for the admin commands. When stdin is not a
//! terminal (a pipe, a test), answers are read one line each from stdin,
//! so every command can be scripted.

use anyhow::{Context, Result, bail};
use std::io::{BufRead, IsTerminal, Write};

/// Reads answers from the terminal or from piped stdin.
pub(crate) struct Prompter {
    tty: bool,
    lines: std::io::Lines<std::io::StdinLock<'static>>,
}

impl Prompter {
    pub(crate) fn new() -> Prompter {
        Prompter {
            tty: std::io::stdin().is_terminal(),
            lines: std::io::stdin().lock().lines(),
        }
    }

    fn line(&mut self) -> Result<String> {
        match self.lines.next() {
            Some(l) => Ok(l
                .context("cannot read stdin")?
                .trim_end_matches('\r')
                .to_string()),
            None => bail!("no more input: the question above needs an answer"),
        }
    }

    /// Asks a question; an empty answer takes `default`.
    pub(crate) fn ask(&mut self, question: &str, default: &str) -> Result<String> {
        if default.is_empty() {
            eprint!("{question}: ");
        } else {
            eprint!("{question} [{default}]: ");
        }
        std::io::stderr().flush().ok();
        let a = self.line()?;
        if !self.tty {
            eprintln!();
        }
        let a = a.trim().to_string();
        Ok(if a.is_empty() { default.to_string() } else { a })
    }

    /// A yes/no question.
    pub(crate) fn confirm(&mut self, question: &str, default: bool) -> Result<bool> {
        loop {
            let a = self.ask(
                &format!("{question} (y/n)"),
                if default { "y" } else { "n" },
            )?;
            match a.to_ascii_lowercase().as_str() {
                "y" | "yes" => return Ok(true),
                "n" | "no" => return Ok(false),
                _ => eprintln!("Please answer y or n."),
            }
        }
    }

    /// Reads a password without echo (or a line from piped stdin).
    pub(crate) fn password(&mut self, question: &str) -> Result<String> {
        if self.tty {
            rpassword::prompt_password(format!("{question}: ")).context("cannot read the password")
        } else {
            eprint!("{question}: ");
            let a = self.line()?;
            eprintln!();
            Ok(a)
        }
    }

    /// Reads a new password twice; it must be at least `min` characters.
    pub(crate) fn new_password(&mut self, who: &str, min: usize) -> Result<String> {
        for _ in 0..3 {
            let a = self.password(&format!("Password for {who}"))?;
            if a.chars().count() < min {
                eprintln!("The password must have at least {min} characters.");
                continue;
            }
            let b = self.password("Repeat the password")?;
            if a != b {
                eprintln!("The passwords differ.");
                continue;
            }
            return Ok(a);
        }
        bail!("no valid password after three attempts")
    }
}
