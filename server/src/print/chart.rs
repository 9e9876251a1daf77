//! The operator console's chart of letters per day by channel, drawn on the
//! server as SVG with plotters, so it reads without JavaScript. Labels come
//! in the operator's language from the page; the page also shows the same
//! figures as a table.

use plotters::prelude::*;
use std::sync::Once;

/// Letters that arrived on one day, by where they went.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DayCounts {
    /// As shown on the axis, e.g. `07.12`.
    pub label: String,
    pub digital: u64,
    pub provider: u64,
    pub print: u64,
}

/// The chart's words, in the page's language.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChartLabels {
    pub digital: String,
    pub provider: String,
    pub print: String,
    pub letters: String,
}

/// Colours that keep 3:1 contrast against white and apart from each other
/// in grey (WCAG 1.4.11), and the legend names them in words too.
const COLOURS: [RGBColor; 3] = [
    RGBColor(0x1f, 0x4e, 0x79),
    RGBColor(0x2e, 0x7d, 0x32),
    RGBColor(0xb0, 0x3a, 0x00),
];

const FONT: &str = "sans-serif";

fn register_font() {
    static REGISTER: Once = Once::new();
    REGISTER.call_once(|| {
        // The bundled font is valid; a failure here would only lose the labels.
        let _ = plotters::style::register_font(FONT, FontStyle::Normal, crate::pdf::DEJAVU_SANS);
    });
}

/// Grouped bars, one group a day, one bar a channel. CPU work, small.
pub fn letters_per_day_svg(days: &[DayCounts], labels: &ChartLabels) -> Result<String, String> {
    register_font();
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, (760, 320)).into_drawing_area();
        root.fill(&WHITE).map_err(|error| error.to_string())?;
        let highest = days
            .iter()
            .flat_map(|day| [day.digital, day.provider, day.print])
            .max()
            .unwrap_or(0)
            .max(1);
        // Four segments a day: a bar per channel, then a gap; the day's label
        // sits under its middle bar.
        let segments = (days.len().max(1) * 4) as i32;
        let mut chart = ChartBuilder::on(&root)
            .margin(12)
            .x_label_area_size(32)
            .y_label_area_size(56)
            // Headroom above the highest bar keeps the legend clear of the bars.
            .build_cartesian_2d((0..segments).into_segmented(), 0f64..(highest as f64 * 1.6))
            .map_err(|error| error.to_string())?;
        let day_labels: Vec<String> = days.iter().map(|day| day.label.clone()).collect();
        chart
            .configure_mesh()
            .disable_x_mesh()
            .x_labels(segments as usize)
            .x_label_formatter(&|segment| match segment {
                SegmentValue::CenterOf(segment) if segment % 4 == 1 => day_labels
                    .get((segment / 4) as usize)
                    .cloned()
                    .unwrap_or_default(),
                _ => String::new(),
            })
            .y_desc(labels.letters.as_str())
            .y_label_formatter(&|y| format!("{y:.0}"))
            .label_style((FONT, 13))
            .axis_desc_style((FONT, 13))
            .draw()
            .map_err(|error| error.to_string())?;
        let series = [
            (labels.digital.as_str(), 0usize),
            (labels.provider.as_str(), 1),
            (labels.print.as_str(), 2),
        ];
        for (name, index) in series {
            let colour = COLOURS[index];
            let bars = days.iter().enumerate().map(move |(day, counts)| {
                let value = [counts.digital, counts.provider, counts.print][index] as f64;
                let segment = (day * 4 + index) as i32;
                Rectangle::new(
                    [
                        (SegmentValue::Exact(segment), 0.0),
                        (SegmentValue::Exact(segment + 1), value),
                    ],
                    colour.filled(),
                )
            });
            chart
                .draw_series(bars)
                .map_err(|error| error.to_string())?
                .label(name)
                .legend(move |(x, y)| {
                    Rectangle::new([(x, y - 6), (x + 12, y + 6)], colour.filled())
                });
        }
        chart
            .configure_series_labels()
            .position(SeriesLabelPosition::UpperLeft)
            .background_style(WHITE.mix(0.9))
            .border_style(BLACK)
            .label_font((FONT, 13))
            .draw()
            .map_err(|error| error.to_string())?;
        root.present().map_err(|error| error.to_string())?;
    }
    Ok(svg)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_chart_is_svg_with_a_bar_per_channel_and_day_and_its_words() {
        let days = vec![
            DayCounts {
                label: "06.12".into(),
                digital: 10,
                provider: 2,
                print: 1,
            },
            DayCounts {
                label: "07.12".into(),
                digital: 7,
                provider: 0,
                print: 3,
            },
        ];
        let labels = ChartLabels {
            digital: "Digitalt her".into(),
            provider: "Annen leverandør".into(),
            print: "Papir".into(),
            letters: "Brev".into(),
        };
        let svg = letters_per_day_svg(&days, &labels).unwrap();
        assert!(svg.starts_with("<svg"), "{svg}");
        for word in [
            "Digitalt her",
            "Annen leverandør",
            "Papir",
            "06.12",
            "07.12",
        ] {
            assert!(svg.contains(word), "{word} missing");
        }
        // Six bars and three legend swatches, each a filled rectangle.
        assert!(svg.matches("<rect").count() >= 9);
        roxmltree::Document::parse(&svg).expect("well-formed SVG");
    }
}
