//! The training curves as an SVG: loss (train and eval) per epoch and, when the model
//! has a classifier output, eval accuracy per epoch. Written atomically.

use super::error::FitError;
use super::report::EpochReport;
use crate::io::{write_atomic, IoError};
use plotters::prelude::*;
use std::ops::Range;
use std::path::Path;

/// One curve: its legend name, its points (epoch, value) and colour.
type Series<'a> = (&'a str, &'a [(f64, f64)], RGBColor);

const TRAIN: RGBColor = RGBColor(31, 119, 180);
const EVAL: RGBColor = RGBColor(255, 127, 14);

/// Renders `history` and writes it to `path` (atomically: a reader sees the old plot or
/// the new one, never half of one).
pub fn write_svg(path: &Path, title: &str, history: &[EpochReport]) -> Result<(), FitError> {
    let svg = render_svg(title, history).map_err(|e| IoError::Write {
        path: path.to_path_buf(),
        source: std::io::Error::other(format!("drawing the plot: {e}")),
    })?;
    write_atomic(path, |w| w.write_all(svg.as_bytes()))?;
    Ok(())
}

/// The SVG text of the plot.
pub fn render_svg(title: &str, history: &[EpochReport]) -> Result<String, Box<dyn std::error::Error>> {
    let train: Vec<(f64, f64)> = finite(history.iter().map(|r| (r.epoch as f64, r.train_loss)));
    let eval: Vec<(f64, f64)> = finite(
        history
            .iter()
            .filter_map(|r| r.eval.as_ref().map(|e| (r.epoch as f64, e.loss))),
    );
    let acc: Vec<(f64, f64)> = finite(history.iter().filter_map(|r| {
        r.eval
            .as_ref()
            .and_then(|e| e.accuracy)
            .map(|a| (r.epoch as f64, 100.0 * a))
    }));
    let epochs = x_range(history);
    let mut svg = String::new();
    {
        let width = if acc.is_empty() { 560 } else { 1040 };
        let root = SVGBackend::with_string(&mut svg, (width, 400)).into_drawing_area();
        root.fill(&WHITE)?;
        let root = root.titled(title, ("sans-serif", 22))?;
        let panels = if acc.is_empty() {
            vec![root.clone()]
        } else {
            root.split_evenly((1, 2))
        };
        let top = train.iter().chain(&eval).map(|p| p.1).fold(0.0f64, f64::max);
        let losses: [Series; 2] = [("train loss", &train, TRAIN), ("eval loss", &eval, EVAL)];
        let upper = SeriesLabelPosition::UpperRight;
        panel(
            &panels[0],
            "loss",
            epochs.clone(),
            0.0..(top * 1.05).max(1e-6),
            &losses,
            upper,
        )?;
        if let Some(right) = panels.get(1) {
            let low = acc.iter().map(|p| p.1).fold(100.0f64, f64::min);
            let low = (low - 2.0).clamp(0.0, 99.0).floor();
            let series = [("eval accuracy", acc.as_slice(), EVAL)];
            panel(
                right,
                "eval accuracy (%)",
                epochs,
                low..100.0,
                &series,
                SeriesLabelPosition::LowerRight,
            )?;
        }
        root.present()?;
    }
    Ok(svg)
}

/// One chart: lines with points, a legend, axes labelled "epoch" and `y_desc`.
fn panel<DB: DrawingBackend>(
    area: &DrawingArea<DB, plotters::coord::Shift>,
    y_desc: &str,
    x: Range<f64>,
    y: Range<f64>,
    series: &[Series],
    legend: SeriesLabelPosition,
) -> Result<(), Box<dyn std::error::Error>>
where
    DB::ErrorType: 'static,
{
    let mut chart = ChartBuilder::on(area)
        .margin(14)
        .x_label_area_size(36)
        .y_label_area_size(56)
        .build_cartesian_2d(x, y)?;
    chart
        .configure_mesh()
        .x_desc("epoch")
        .y_desc(y_desc)
        .x_label_formatter(&|v| format!("{v:.0}"))
        .max_light_lines(1)
        .draw()?;
    for &(name, points, color) in series {
        if points.is_empty() {
            continue;
        }
        chart
            .draw_series(LineSeries::new(points.iter().copied(), color.stroke_width(2)))?
            .label(name)
            .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 18, y)], color.stroke_width(2)));
        chart.draw_series(points.iter().map(|&p| Circle::new(p, 3, color.filled())))?;
    }
    chart
        .configure_series_labels()
        .position(legend)
        .background_style(WHITE.mix(0.85))
        .border_style(BLACK)
        .draw()?;
    Ok(())
}

fn finite(points: impl Iterator<Item = (f64, f64)>) -> Vec<(f64, f64)> {
    points.filter(|p| p.1.is_finite()).collect()
}

/// From the first to the last epoch, widened around a single epoch.
fn x_range(history: &[EpochReport]) -> Range<f64> {
    let first = history.first().map_or(1.0, |r| r.epoch as f64);
    let last = history.last().map_or(1.0, |r| r.epoch as f64);
    if last > first {
        first..last
    } else {
        first - 1.0..last + 1.0
    }
}
