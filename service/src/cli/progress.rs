//! How an operator command shows that it is working: on a terminal, a bar
//! over the command's stages with the one under way and the time taken
//! (indicatif); otherwise (a pipe, a log, CI) one plain line per stage on
//! standard error, so that a log shows where a long run was.

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use std::io::IsTerminal;
use std::time::{Duration, Instant};

/// The stages of one command.
pub struct Progress {
    command: &'static str,
    bar: Option<ProgressBar>,
    started: Instant,
    /// Stages started so far.
    stages: u64,
}

impl Progress {
    /// A command of `stages` stages, drawn as a bar when standard error is
    /// a terminal.
    pub fn new(command: &'static str, stages: u64) -> Progress {
        let terminal = std::io::stderr().is_terminal();
        Progress::to(command, stages, terminal)
    }

    fn to(command: &'static str, stages: u64, terminal: bool) -> Progress {
        let bar = terminal.then(|| {
            let bar = ProgressBar::with_draw_target(Some(stages), ProgressDrawTarget::stderr());
            let style =
                ProgressStyle::with_template("{prefix} [{bar:24}] {pos}/{len} {msg} ({elapsed})")
                    .unwrap_or_else(|_| ProgressStyle::default_bar())
                    .progress_chars("=> ");
            bar.set_style(style);
            bar.set_prefix(command);
            bar.enable_steady_tick(Duration::from_millis(200));
            bar
        });
        Progress {
            command,
            bar,
            started: Instant::now(),
            stages: 0,
        }
    }

    /// The next stage starts.
    pub fn step(&mut self, what: &str) {
        // The bar counts the stages done: all but the one starting now.
        match &self.bar {
            Some(bar) => {
                bar.set_position(self.stages);
                bar.set_message(what.to_owned());
            }
            None => eprintln!("{}: {what}", self.line_prefix()),
        }
        self.stages += 1;
    }

    fn line_prefix(&self) -> String {
        format!(
            "{} [{:.1}s]",
            self.command,
            self.started.elapsed().as_secs_f64()
        )
    }
}

impl Drop for Progress {
    /// The bar is cleared, so that the command's own report follows.
    fn drop(&mut self) {
        if let Some(bar) = self.bar.take() {
            bar.finish_and_clear();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_bar_counts_the_stages_started() {
        let mut p = Progress::to("test", 3, true);
        let bar = p.bar.clone().unwrap();
        p.step("one");
        assert_eq!((bar.position(), bar.message()), (0, "one".to_owned()));
        p.step("two");
        p.step("three");
        assert_eq!((bar.position(), bar.message()), (2, "three".to_owned()));
        drop(p);
        assert!(bar.is_finished());
        assert!(Progress::to("test", 3, false).bar.is_none());
    }
}
