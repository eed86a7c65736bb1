//! Training progress on stderr: a progress bar per epoch with the running loss and
//! examples/s when stderr is a terminal, one plain line per epoch otherwise.

use indicatif::{ProgressBar, ProgressStyle};
use nnc::fit::{EpochReport, EpochStart, Observer, StepInfo};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// The CLI's observer of the training loop.
pub struct Progress {
    terminal: bool,
    bar: Option<ProgressBar>,
    last_message: Instant,
    stop: Arc<AtomicBool>,
    stop_noted: bool,
}

impl Progress {
    /// Draws a bar when `terminal`, else prints plain lines; notes a raised `stop` once.
    pub fn new(terminal: bool, stop: Arc<AtomicBool>) -> Progress {
        Progress {
            terminal,
            bar: None,
            last_message: Instant::now(),
            stop,
            stop_noted: false,
        }
    }

    /// Removes a bar still on screen.
    pub fn finish(&mut self) {
        if let Some(bar) = self.bar.take() {
            bar.finish_and_clear();
        }
    }

    fn print(&self, line: &str) {
        match &self.bar {
            Some(bar) => bar.println(line),
            None => eprintln!("{line}"),
        }
    }
}

impl Observer for Progress {
    fn epoch_started(&mut self, e: &EpochStart) {
        if !self.terminal {
            return;
        }
        let bar = ProgressBar::new(e.steps as u64).with_position(e.steps_done as u64);
        let style = ProgressStyle::with_template("epoch {prefix} [{bar:30}] {pos}/{len} {msg}")
            .map(|s| s.progress_chars("=> "))
            .unwrap_or_else(|_| ProgressStyle::default_bar());
        bar.set_style(style);
        bar.set_prefix(format!("{}/{}", e.epoch, e.last_epoch));
        self.finish();
        self.bar = Some(bar);
    }

    fn step(&mut self, s: &StepInfo) {
        if self.stop.load(Ordering::Relaxed) && !self.stop_noted {
            self.stop_noted = true;
            self.print("stopping after this step (Ctrl-C again to quit without saving)");
        }
        let Some(bar) = &self.bar else {
            return;
        };
        bar.set_position(s.steps_done as u64);
        // Formatting a message every step would cost more than the step of a small model.
        if self.last_message.elapsed() >= Duration::from_millis(100) || s.steps_done == s.steps {
            bar.set_message(format!("loss {:.4}  {}", s.mean_loss, rate(s.examples_per_second)));
            self.last_message = Instant::now();
        }
    }

    fn evaluating(&mut self, _epoch: u64) {
        if let Some(bar) = &self.bar {
            bar.set_message("evaluating...");
        }
    }

    fn epoch_finished(&mut self, r: &EpochReport) {
        let line = epoch_line(r);
        self.finish();
        eprintln!("{line}");
    }
}

/// `epoch 3  train loss 0.1234  eval loss 0.1456  accuracy 95.60%  41.2k ex/s  0.9 s`
pub fn epoch_line(r: &EpochReport) -> String {
    let mut line = format!("epoch {:>3}  train loss {:.4}", r.epoch, r.train_loss);
    if let Some(e) = &r.eval {
        line.push_str(&format!("  eval loss {:.4}", e.loss));
        if let Some(a) = e.accuracy {
            line.push_str(&format!("  accuracy {:.2}%", 100.0 * a));
        }
    }
    line.push_str(&format!("  {}  {:.1} s", rate(r.examples_per_second), r.seconds));
    line
}

fn rate(per_second: f64) -> String {
    if per_second >= 1e6 {
        format!("{:.2}M ex/s", per_second / 1e6)
    } else if per_second >= 1e3 {
        format!("{:.1}k ex/s", per_second / 1e3)
    } else {
        format!("{per_second:.0} ex/s")
    }
}
