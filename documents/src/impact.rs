//! The impact report (issue 22 §2) as a PDF for a programme officer or a funder, in Spanish:
//! how to read it, income per person month by month against the minimum wage (a line chart),
//! the breakdown's cells ranked by income (a bar chart), and every month's figures as a table.
//! Suppressed figures (see [`vereda_contracts::impact`]) print as «reservado», and a month
//! without figures leaves a gap in the chart, never a zero.
// Chart geometry is in points (f32); amounts stay `Decimal` until they become a length.
#![allow(clippy::float_arithmetic)]

use rust_decimal::Decimal;
use rust_decimal::prelude::ToPrimitive;
use vereda_contracts::impact::{
    By, Figures, MIN_PEOPLE, MonthReport, NONE_KEY, Report, percent_es,
};
use vereda_contracts::money::Cop;
use vereda_contracts::statements::Month;

use crate::pdf::{
    BODY, Document, HEADING, LEFT, RIGHT, Rgb, SMALL, STRONG, Style, TITLE, fit, text_width,
};
use crate::{Issuer, iso_date_es, section};

/// Explanations: smaller than the body, still easy to read.
const NOTE: Style = Style {
    size: 9.0,
    bold: false,
};
/// Axis labels and legends.
const TINY: Style = Style {
    size: 7.0,
    bold: false,
};
const SMALL_BOLD: Style = Style {
    size: 8.0,
    bold: true,
};

const MEAN_COLOUR: Rgb = Rgb(0.11, 0.33, 0.62);
const MEDIAN_COLOUR: Rgb = Rgb(0.90, 0.47, 0.10);
const SMMLV_COLOUR: Rgb = Rgb(0.30, 0.30, 0.30);
const DOUBLED_COLOUR: Rgb = Rgb(0.16, 0.56, 0.27);
const GRID_COLOUR: Rgb = Rgb(0.87, 0.87, 0.87);
const AXIS_COLOUR: Rgb = Rgb(0.45, 0.45, 0.45);
const WHITE: Rgb = Rgb(1.0, 1.0, 1.0);

/// What a suppressed figure says, and why, in one phrase.
const RESERVED_WHY: &str = "menos de 5 personas o para proteger a otras";

/// The impact report as a PDF: `generated_on` is the day it was made (`YYYY-MM-DD`, printed
/// as a Spanish date; any other text prints as given).
pub fn impact_pdf(report: &Report, issuer: &Issuer, generated_on: &str) -> Vec<u8> {
    let mut doc = Document::new(&format!(
        "Reporte de impacto {} a {}",
        report.from, report.to
    ));
    heading(&mut doc, report, issuer, generated_on);
    how_to_read(&mut doc, report);
    if report.months.is_empty() {
        section(&mut doc, "Resultados");
        doc.paragraph(LEFT, BODY, "El periodo pedido no tiene meses que mostrar.");
    } else {
        income_chart(&mut doc, report);
        ranking_chart(&mut doc, report);
        tables(&mut doc, report);
    }
    privacy_note(&mut doc);
    doc.finish()
}

/// `de julio de 2026 a diciembre de 2026`, or one month's name.
fn period_es(from: Month, to: Month) -> String {
    if from == to {
        from.name_es()
    } else {
        format!("de {} a {}", from.name_es(), to.name_es())
    }
}

fn capitalised(s: &str) -> String {
    let mut c = s.chars();
    c.next()
        .map(|f| f.to_uppercase().chain(c).collect())
        .unwrap_or_default()
}

/// `jul.` and `2026`: a month on the chart's axis.
fn month_abbreviation(m: Month) -> (String, String) {
    let name = m.name_es();
    let (month, year) = name.split_once(" de ").unwrap_or((&name, ""));
    let short: String = month.chars().take(3).collect();
    (format!("{short}."), year.to_string())
}

fn pesos(d: Decimal) -> String {
    Cop::new(d).to_es_co()
}

/// Digits grouped by dots, as people in Colombia write them: `12.345`.
fn grouped(digits: &str) -> String {
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push('.');
        }
        out.push(c);
    }
    out
}

/// Hours with one decimal: `1.234,5`.
fn hours_es(h: Decimal) -> String {
    let s = format!("{:.1}", h.round_dp(1));
    let (int, frac) = s.split_once('.').unwrap_or((&s, "0"));
    format!("{},{frac}", grouped(int))
}

/// A ratio with two decimals: `1,55`.
fn ratio_es(r: Decimal) -> String {
    format!("{:.2}", r.round_dp(2)).replace('.', ",")
}

/// A key's name for people; unknown places and people without a group are `Sin dato`.
fn name_of<'a>(report: &'a Report, key: &'a str) -> &'a str {
    if key == NONE_KEY && !report.labels.contains_key(key) {
        "Sin dato"
    } else {
        report.label(key)
    }
}

fn points(d: Decimal) -> f32 {
    d.to_f32().unwrap_or(0.0)
}

/// Title, issuer, period, breakdown and date.
fn heading(doc: &mut Document, report: &Report, issuer: &Issuer, generated_on: &str) {
    doc.line(LEFT, TITLE, "Reporte de impacto");
    doc.paragraph(
        LEFT,
        HEADING,
        &format!("Periodo: {}", period_es(report.from, report.to)),
    );
    doc.paragraph(LEFT, BODY, &format!("Cifras por {}", report.by.label_es()));
    doc.paragraph(
        LEFT,
        BODY,
        &format!("Expide: {} · NIT {}", issuer.name, issuer.nit),
    );
    doc.line(
        LEFT,
        BODY,
        &format!("Fecha de generación: {}", iso_date_es(generated_on)),
    );
    doc.rule();
}

/// Consecutive months with the same SMMLV: `$ 1.750.905 de julio de 2026 a diciembre de 2026`.
fn smmlv_periods(report: &Report) -> Vec<String> {
    let mut runs: Vec<(Month, Month, Decimal)> = Vec::new();
    for m in &report.months {
        match runs.last_mut() {
            Some((_, last, smmlv)) if *smmlv == m.yardsticks.smmlv => *last = m.month,
            _ => runs.push((m.month, m.month, m.yardsticks.smmlv)),
        }
    }
    runs.into_iter()
        .map(|(from, to, smmlv)| {
            let when = if from == to {
                format!("en {}", from.name_es())
            } else {
                period_es(from, to)
            };
            format!("{} {when}", pesos(smmlv))
        })
        .collect()
}

/// What is counted, what «reservado» and «duplicó» mean, and the yardsticks.
fn how_to_read(doc: &mut Document, report: &Report) {
    section(doc, "Cómo leer este reporte");
    let mut paragraphs = vec![
        "Solo se cuentan las personas que autorizaron el uso de sus datos para reportes de \
         impacto, en los meses en que tuvieron ingresos en Vereda. El ingreso de una persona es \
         lo que ganó en Vereda ese mes por trabajo aprobado; las horas son las de trabajo \
         aprobado en el mes, sumadas."
            .to_string(),
        format!(
            "Una cifra que describiría a menos de {MIN_PEOPLE} personas no se muestra: aparece \
             como «reservado». Algunas otras también se reservan, para que una cifra reservada no \
             se pueda calcular a partir del total y de las demás."
        ),
        "«Duplicó»: el ingreso de la persona en Vereda ese mes llegó al menos al doble del \
         ingreso mensual de su hogar antes de entrar. Se calcula solo sobre quienes informaron \
         ese ingreso del hogar."
            .to_string(),
        format!(
            "«Veces la referencia rural»: el ingreso promedio dividido entre la referencia de \
             ingreso rural del programa, {} al mes (unos USD 200). «% con 1 SMMLV o más»: la \
             parte de las personas cuyo ingreso del mes llegó al menos a un salario mínimo \
             mensual legal vigente.",
            pesos(report.rural_reference)
        ),
    ];
    let smmlv = smmlv_periods(report);
    if !smmlv.is_empty() {
        paragraphs.push(format!("SMMLV de cada mes: {}.", smmlv.join("; ")));
    }
    if report.by == By::Group {
        paragraphs.push(
            "Una persona puede estar en varios grupos del programa, así que los grupos no suman \
             el total."
                .to_string(),
        );
    }
    for p in paragraphs {
        doc.paragraph(LEFT, NOTE, &p);
        doc.space(3.0);
    }
}

/// A price per «nice» step: 1, 2, 2.5 or 5 times a power of ten, about `ticks` steps to `max`.
fn nice_step(max: f64, ticks: f64) -> f64 {
    let raw = (max / ticks).max(1.0);
    let magnitude = 10f64.powf(raw.log10().floor());
    [1.0, 2.0, 2.5, 5.0, 10.0]
        .into_iter()
        .map(|m| m * magnitude)
        .find(|s| *s >= raw)
        .unwrap_or(10.0 * magnitude)
}

/// Runs of consecutive known values, as chart points: a missing value breaks the line.
fn runs(xs: &[f32], values: &[Option<f32>], y: impl Fn(f32) -> f32) -> Vec<Vec<(f32, f32)>> {
    let mut out: Vec<Vec<(f32, f32)>> = Vec::new();
    let mut current = Vec::new();
    for (x, v) in xs.iter().zip(values) {
        match v {
            Some(v) => current.push((*x, y(*v))),
            None if !current.is_empty() => out.push(std::mem::take(&mut current)),
            None => {}
        }
    }
    if !current.is_empty() {
        out.push(current);
    }
    out
}

fn marker(doc: &mut Document, (x, y): (f32, f32), colour: Rgb) {
    doc.fill_rect(x - 2.0, y - 2.0, 4.0, 4.0, colour);
}

/// A legend entry: a short sample of the line, then its name.
fn legend_entry(
    doc: &mut Document,
    (x, y): (f32, f32),
    colour: Rgb,
    dash: Option<f32>,
    with_marker: bool,
    text: &str,
) {
    doc.polyline(&[(x, y + 2.5), (x + 20.0, y + 2.5)], 1.4, colour, dash);
    if with_marker {
        marker(doc, (x + 10.0, y + 2.5), colour);
    }
    doc.text_at(x + 25.0, y, TINY, text);
}

/// Chart 1: the total's mean and median income per person, month by month, against the
/// SMMLV and twice the household income before joining.
fn income_chart(doc: &mut Document, report: &Report) {
    const HEIGHT: f32 = 250.0;
    let months = &report.months;
    let total = |f: fn(&Figures) -> Option<Decimal>| -> Vec<Option<f32>> {
        months
            .iter()
            .map(|m| m.total.as_ref().and_then(f).map(points))
            .collect()
    };
    let mean = total(|f| Some(f.income_mean));
    let median = total(|f| Some(f.income_median));
    let doubled = total(|f| f.baseline.as_ref().map(|b| b.baseline_mean * Decimal::TWO));
    let smmlv: Vec<f32> = months.iter().map(|m| points(m.yardsticks.smmlv)).collect();

    doc.keep(&[32.0, HEIGHT]);
    section(doc, "Ingreso por persona, mes a mes");
    if mean.iter().all(Option::is_none) {
        doc.paragraph(
            LEFT,
            BODY,
            &format!(
                "Ningún mes del periodo tiene suficientes personas para mostrar su ingreso (se \
                 necesitan al menos {MIN_PEOPLE})."
            ),
        );
        return;
    }
    let top = doc.block(HEIGHT);
    let (plot_left, plot_right) = (LEFT + 52.0, RIGHT - 4.0);
    let plot_top = top - 20.0;
    let plot_bottom = plot_top - 165.0;
    doc.text_at(LEFT, top - 9.0, TINY, "Pesos al mes por persona");

    // The scale: from zero to a round amount above everything drawn.
    let highest = mean
        .iter()
        .chain(&median)
        .chain(&doubled)
        .flatten()
        .chain(&smmlv)
        .fold(0.0f32, |a, b| a.max(*b));
    let step = nice_step(f64::from(highest.max(1.0)), 5.0);
    let steps = (f64::from(highest) / step).ceil().max(1.0);
    let y_max = (step * steps) as f32;
    let y_of = |v: f32| plot_bottom + (plot_top - plot_bottom) * (v / y_max);
    for i in 0..=(steps as i64) {
        let amount = step * i as f64;
        let y = y_of(amount as f32);
        let colour = if i == 0 { AXIS_COLOUR } else { GRID_COLOUR };
        doc.polyline(&[(plot_left, y), (plot_right, y)], 0.5, colour, None);
        let label = Cop::pesos(amount.round() as i64).to_es_co();
        doc.text_at(
            plot_left - 4.0 - text_width(&label, TINY),
            y - 2.5,
            TINY,
            &label,
        );
    }
    doc.polyline(
        &[(plot_left, plot_bottom), (plot_left, plot_top)],
        0.5,
        AXIS_COLOUR,
        None,
    );

    // Months: one slot each, labelled as often as their width allows.
    let slot = (plot_right - plot_left) / months.len() as f32;
    let xs: Vec<f32> = (0..months.len())
        .map(|i| plot_left + slot * (i as f32 + 0.5))
        .collect();
    let every = (24.0 / slot).ceil().max(1.0) as usize;
    for (i, m) in months.iter().enumerate() {
        // Counted from the last month, which is always labelled.
        if !(months.len() - 1 - i).is_multiple_of(every) {
            continue;
        }
        let (short, year) = month_abbreviation(m.month);
        for (text, dy) in [(short, 10.0), (year, 19.0)] {
            doc.text_at(
                xs[i] - text_width(&text, TINY) / 2.0,
                plot_bottom - dy,
                TINY,
                &text,
            );
        }
    }

    // The SMMLV in force, as steps across each month's slot.
    let mut steps_line = Vec::new();
    for (x, s) in xs.iter().zip(&smmlv) {
        steps_line.push((x - slot / 2.0, y_of(*s)));
        steps_line.push((x + slot / 2.0, y_of(*s)));
    }
    doc.polyline(&steps_line, 1.0, SMMLV_COLOUR, None);
    for run in runs(&xs, &doubled, y_of) {
        let line = if run.len() == 1 {
            let (x, y) = run[0];
            vec![(x - slot / 3.0, y), (x + slot / 3.0, y)]
        } else {
            run
        };
        doc.polyline(&line, 1.4, DOUBLED_COLOUR, Some(3.0));
    }
    for (values, colour) in [(&median, MEDIAN_COLOUR), (&mean, MEAN_COLOUR)] {
        for run in runs(&xs, values, y_of) {
            doc.polyline(&run, 1.6, colour, None);
            for p in run {
                marker(doc, p, colour);
            }
        }
    }

    // The legend, two entries a line.
    let (col_a, col_b) = (plot_left, plot_left + (plot_right - plot_left) / 2.0);
    let (row_a, row_b) = (plot_bottom - 36.0, plot_bottom - 48.0);
    legend_entry(
        doc,
        (col_a, row_a),
        MEAN_COLOUR,
        None,
        true,
        "Ingreso promedio por persona",
    );
    legend_entry(
        doc,
        (col_b, row_a),
        MEDIAN_COLOUR,
        None,
        true,
        "Ingreso mediano por persona",
    );
    legend_entry(
        doc,
        (col_a, row_b),
        SMMLV_COLOUR,
        None,
        false,
        "SMMLV del mes",
    );
    if doubled.iter().any(Option::is_some) {
        legend_entry(
            doc,
            (col_b, row_b),
            DOUBLED_COLOUR,
            Some(3.0),
            false,
            "Doble del ingreso del hogar antes de entrar (promedio)",
        );
    }
    let gaps = months.iter().filter(|m| m.total.is_none()).count();
    let mut note = String::from(
        "Ingreso promedio y mediano del total de cada mes. La línea verde punteada es el doble \
         del ingreso mensual promedio del hogar antes de entrar, de quienes lo informaron: la \
         meta de «duplicó».",
    );
    if gaps > 0 {
        note.push_str(&format!(
            " Los meses sin punto tienen menos de {MIN_PEOPLE} personas (reservado)."
        ));
    }
    doc.paragraph(LEFT, SMALL, &note);
}

/// Chart 2: the latest month's shown cells, ranked by mean income per person.
fn ranking_chart(doc: &mut Document, report: &Report) {
    const ROW: f32 = 15.0;
    let label = report.by.label_es();
    let latest = report
        .months
        .iter()
        .rev()
        .find(|m| m.cells.iter().any(|c| c.figures.is_some()));
    // The whole chart on one page when it fits in one; else its heading and first bars.
    let whole = 32.0 + 30.0 + 16.0 + latest.map_or(0.0, |m| m.cells.len() as f32 * ROW) + 40.0;
    if whole <= 700.0 {
        doc.keep(&[whole]);
    } else {
        doc.keep(&[32.0, 30.0, 16.0, 3.0 * ROW]);
    }
    section(doc, &format!("Ingreso promedio por persona, por {label}"));
    let Some(month) = latest else {
        doc.paragraph(
            LEFT,
            BODY,
            &format!(
                "En ningún mes del periodo hay cifras por {label} que se puedan mostrar \
                 ({RESERVED_WHY})."
            ),
        );
        return;
    };
    let smmlv = month.yardsticks.smmlv;
    doc.paragraph(
        LEFT,
        NOTE,
        &format!(
            "{}, el último mes con cifras por {label}. Cada barra es el ingreso promedio por \
             persona; la línea punteada es el SMMLV de ese mes ({}).",
            capitalised(&month.month.name_es()),
            pesos(smmlv)
        ),
    );
    doc.space(4.0);
    let mut shown: Vec<(&str, &Figures)> = month
        .cells
        .iter()
        .filter_map(|c| c.figures.as_ref().map(|f| (name_of(report, &c.key), f)))
        .collect();
    shown.sort_by(|a, b| b.1.income_mean.cmp(&a.1.income_mean).then(a.0.cmp(b.0)));
    let scale = shown
        .iter()
        .map(|(_, f)| f.income_mean)
        .chain([smmlv])
        .max()
        .unwrap_or(Decimal::ONE);
    let scale = points(scale).max(1.0);
    let (label_width, bar_left) = (150.0, LEFT + 156.0);
    let bar_room = RIGHT - 52.0 - bar_left;
    let smmlv_x = bar_left + bar_room * points(smmlv) / scale;

    let smmlv_label = format!("SMMLV {}", pesos(smmlv));
    let label_x = {
        let w = text_width(&smmlv_label, TINY);
        (smmlv_x - w / 2.0).min(RIGHT - w)
    };
    let hidden: Vec<String> = month
        .cells
        .iter()
        .filter(|c| c.figures.is_none())
        .map(|c| fit(name_of(report, &c.key), SMALL, 200.0))
        .collect();
    let hidden = (!hidden.is_empty())
        .then(|| format!("Reservados ({RESERVED_WHY}): {}.", hidden.join(", ")));
    // The list of reserved cells stays on the page of the last bar: its lines, with slack.
    let hidden_height = hidden.as_ref().map_or(0.0, |h| {
        4.0 + 11.6 * ((text_width(h, SMALL) / (RIGHT - LEFT)).ceil() + 1.0)
    });
    let count = shown.len();
    for (i, (name, f)) in shown.into_iter().enumerate() {
        // The last two bars and the reserved list together: no bar alone on a page.
        let mut need = match count - i {
            1 => ROW + hidden_height,
            2 => 2.0 * ROW + hidden_height,
            _ => ROW,
        };
        if i == 0 {
            need += 12.0;
        }
        let before = doc.left();
        doc.keep(&[need]);
        if i == 0 || doc.left() > before {
            // The SMMLV line's name over the first bar of each page.
            let top = doc.block(12.0);
            doc.text_at(label_x, top - 8.0, TINY, &smmlv_label);
        }
        let top = doc.block(ROW);
        let name = fit(name, SMALL, label_width);
        doc.text_at(LEFT, top - 10.5, SMALL, &name);
        let length = (bar_room * points(f.income_mean) / scale).max(0.5);
        doc.fill_rect(bar_left, top - 12.0, length, 10.0, MEAN_COLOUR);
        doc.polyline(
            &[(smmlv_x, top), (smmlv_x, top - ROW)],
            0.9,
            SMMLV_COLOUR,
            Some(2.0),
        );
        // The amount over the SMMLV line, never crossed by it.
        let value = pesos(f.income_mean);
        let value_x = bar_left + length + 4.0;
        doc.fill_rect(
            value_x - 1.0,
            top - ROW,
            text_width(&value, SMALL) + 2.0,
            ROW,
            WHITE,
        );
        doc.text_at(value_x, top - 10.5, SMALL, &value);
    }
    if let Some(hidden) = hidden {
        doc.space(4.0);
        doc.paragraph(LEFT, SMALL, &hidden);
    }
}

/// Right edges of the table's number columns, after the name (which starts at [`LEFT`]).
const COLUMNS: [f32; 7] = [230.0, 282.0, 340.0, 400.0, 446.0, 493.0, RIGHT];
const NAME_WIDTH: f32 = 128.0;
const TABLE_ROW: f32 = 12.0;

/// The header of a month's table: each column's words, bottom-aligned over three lines.
fn table_header(doc: &mut Document, by: By) {
    let first = capitalised(match by {
        By::Cohort => "cohorte",
        other => other.label_es(),
    });
    let columns: [&[&str]; 8] = [
        &[&first],
        &["Personas"],
        &["Horas"],
        &["Ingreso", "mediano"],
        &["Ingreso", "promedio"],
        &["% con", "1 SMMLV", "o más"],
        &["Veces la", "referencia", "rural"],
        &["% que", "duplicó"],
    ];
    for line in 0..3 {
        let words: Vec<(f32, &str, bool)> = columns
            .iter()
            .enumerate()
            .filter_map(|(c, words)| {
                let skip = 3 - words.len();
                (line >= skip).then(|| {
                    let (x, right) = if c == 0 {
                        (LEFT, false)
                    } else {
                        (COLUMNS[c - 1], true)
                    };
                    (x, words[line - skip], right)
                })
            })
            .collect();
        doc.row(SMALL_BOLD, &words);
    }
    doc.rule();
}

/// A row of the table: a shown cell's figures, or «reservado».
fn table_row(doc: &mut Document, name: &str, figures: Option<&Figures>, bold: bool) {
    let style = if bold { SMALL_BOLD } else { SMALL };
    let name = fit(name, style, NAME_WIDTH);
    let Some(f) = figures else {
        let reserved = format!("reservado ({RESERVED_WHY})");
        doc.row(
            style,
            &[(LEFT, &name, false), (COLUMNS[0] - 36.0, &reserved, false)],
        );
        return;
    };
    let doubled = match &f.baseline {
        Some(b) => percent_es(b.doubled_percent),
        None if f.people_with_baseline == 0 => "sin dato".to_string(),
        None => "reservado".to_string(),
    };
    let values = [
        grouped(&f.people.to_string()),
        hours_es(f.hours),
        pesos(f.income_median),
        pesos(f.income_mean),
        percent_es(f.at_least_smmlv_percent),
        ratio_es(f.mean_vs_rural),
        doubled,
    ];
    let mut cells: Vec<(f32, &str, bool)> = vec![(LEFT, &name, false)];
    cells.extend(
        COLUMNS
            .iter()
            .zip(&values)
            .map(|(x, v)| (*x, v.as_str(), true)),
    );
    doc.row(style, &cells);
}

/// The cells of a month in reading order: cohorts by date, anything else by name.
fn ordered<'a>(report: &'a Report, month: &'a MonthReport) -> Vec<(&'a str, Option<&'a Figures>)> {
    let mut cells: Vec<(&str, &str, Option<&Figures>)> = month
        .cells
        .iter()
        .map(|c| (c.key.as_str(), name_of(report, &c.key), c.figures.as_ref()))
        .collect();
    if report.by != By::Cohort {
        cells.sort_by(|a, b| {
            (a.0 == NONE_KEY)
                .cmp(&(b.0 == NONE_KEY))
                .then_with(|| a.1.to_lowercase().cmp(&b.1.to_lowercase()))
        });
    }
    cells.into_iter().map(|(_, n, f)| (n, f)).collect()
}

/// A table per month: the total and every cell.
fn tables(doc: &mut Document, report: &Report) {
    doc.keep(&[32.0, 40.0, 3.0 * TABLE_ROW + 8.0, 3.0 * TABLE_ROW]);
    section(doc, "Cifras de cada mes");
    for month in &report.months {
        let title = capitalised(&month.month.name_es());
        let yardsticks = format!(
            "SMMLV {} · referencia rural {}",
            pesos(month.yardsticks.smmlv),
            pesos(month.yardsticks.rural_reference)
        );
        doc.space(6.0);
        if month.total.is_none() && month.cells.is_empty() {
            doc.keep(&[15.0, 15.0]);
            doc.line(LEFT, STRONG, &title);
            doc.paragraph(
                LEFT,
                NOTE,
                "Ninguna persona que autorizó el uso de sus datos tuvo ingresos en Vereda este \
                 mes.",
            );
            continue;
        }
        let rows = 1 + month.cells.len();
        // The heading, the header and the first rows together; the whole month when it fits.
        let whole = 15.0 + 13.0 + 3.0 * TABLE_ROW + 8.0 + rows as f32 * TABLE_ROW;
        if whole <= 700.0 {
            doc.keep(&[whole]);
        } else {
            doc.keep(&[15.0, 13.0, 3.0 * TABLE_ROW + 8.0, 4.0 * TABLE_ROW]);
        }
        doc.line(LEFT, STRONG, &title);
        doc.line(LEFT, SMALL, &yardsticks);
        table_header(doc, report.by);
        table_row(doc, "Total", month.total.as_ref(), true);
        for (name, figures) in ordered(report, month) {
            if doc.left() < TABLE_ROW {
                // A new page: say whose rows continue, and repeat the header.
                doc.keep(&[TABLE_ROW]);
                doc.line(LEFT, STRONG, &format!("{title} (continuación)"));
                table_header(doc, report.by);
            }
            table_row(doc, name, figures, false);
        }
    }
}

/// Ley 1581 de 2012: aggregated, nobody identifiable.
fn privacy_note(doc: &mut Document) {
    doc.space(10.0);
    doc.keep(&[20.0, 40.0]);
    doc.rule();
    doc.paragraph(
        LEFT,
        SMALL,
        &format!(
            "Protección de datos personales (Ley 1581 de 2012): este reporte contiene solo cifras \
             agregadas, calculadas con los datos de las personas que autorizaron su uso para \
             reportes de impacto. Ninguna cifra describe a menos de {MIN_PEOPLE} personas y \
             ninguna persona puede ser identificada a partir de él."
        ),
    );
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use rust_decimal_macros::dec;
    use vereda_contracts::impact::{BaselineFigures, Cell, Yardsticks};

    use super::*;

    fn issuer() -> Issuer {
        Issuer {
            name: "Vereda S.A.S.".into(),
            nit: "901234567-8".into(),
            public_url: "https://vereda.example".into(),
        }
    }

    fn figures(people: usize, mean: i64, baseline: Option<i64>) -> Figures {
        Figures {
            people,
            hours: Decimal::from(people as i64 * 62) + dec!(0.5),
            income_median: Decimal::from(mean - 90_000),
            income_mean: Decimal::from(mean),
            at_least_smmlv_percent: dec!(42.5),
            mean_vs_rural: (Decimal::from(mean) / dec!(800000)).round_dp(2),
            people_with_baseline: if baseline.is_some() { people - 1 } else { 3 },
            baseline: baseline.map(|b| BaselineFigures {
                baseline_mean: Decimal::from(b),
                doubled_percent: dec!(37.5),
            }),
        }
    }

    fn cell(key: &str, figures: Option<Figures>) -> Cell {
        Cell {
            key: key.into(),
            figures,
        }
    }

    fn yardsticks(m: Month) -> Yardsticks {
        Yardsticks {
            smmlv: if m < Month::parse("2027-01").unwrap() {
                dec!(1750905)
            } else {
                dec!(1890000)
            },
            rural_reference: dec!(800000),
        }
    }

    fn labels() -> BTreeMap<String, String> {
        [
            ("05", "Antioquia"),
            ("17", "Caldas"),
            ("19", "Cauca"),
            ("27", "Chocó"),
            (
                "88",
                "Archipiélago de San Andrés, Providencia y Santa Catalina con un nombre \
                 larguísimo para probar los cortes",
            ),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
    }

    /// Six months from July 2026: a month of too few people (all reserved) and a month of
    /// nobody, some cells reserved, one very long name.
    fn sample() -> Report {
        let from = Month::parse("2026-07").unwrap();
        let mut months = Vec::new();
        let mut m = from;
        for i in 0..6i64 {
            let cells = match i {
                2 => vec![cell("05", None), cell("19", None)],
                4 => vec![],
                _ => vec![
                    cell(
                        "05",
                        Some(figures(
                            12 + i as usize,
                            1_150_000 + i * 90_000,
                            Some(520_000),
                        )),
                    ),
                    cell("17", Some(figures(8, 980_000 + i * 40_000, None))),
                    cell("19", None),
                    cell("27", None),
                    cell(
                        "88",
                        Some(figures(6, 2_100_000 - i * 30_000, Some(610_000))),
                    ),
                    cell(
                        NONE_KEY,
                        if i == 5 {
                            Some(figures(5, 640_000, None))
                        } else {
                            None
                        },
                    ),
                ],
            };
            let total = match i {
                2 | 4 => None,
                _ => Some(figures(
                    30 + i as usize,
                    1_080_000 + i * 75_000,
                    (i != 1).then_some(540_000 + i * 5_000),
                )),
            };
            months.push(MonthReport {
                month: m,
                yardsticks: yardsticks(m),
                total,
                cells,
            });
            m = m.next();
        }
        Report {
            from,
            to: months.last().unwrap().month,
            by: By::Department,
            rural_reference: dec!(800000),
            months,
            labels: labels(),
        }
    }

    /// The text a PDF shows, line by line: every string its content streams print (`Tj`),
    /// decoded from Windows-1252.
    fn shown_text(pdf: &[u8]) -> String {
        let mut out = String::new();
        let mut i = 0;
        while i < pdf.len() {
            let (bytes, end) = match pdf[i] {
                b'(' => literal(pdf, i + 1),
                b'<' if pdf.get(i + 1) != Some(&b'<') => hex(pdf, i + 1),
                _ => {
                    i += 1;
                    continue;
                }
            };
            let rest = &pdf[end..];
            let rest = &rest[rest.iter().take_while(|b| b.is_ascii_whitespace()).count()..];
            if rest.starts_with(b"Tj") {
                out.extend(bytes.iter().map(|&b| match b {
                    0x85 => '…',
                    0x97 => '—',
                    b => char::from(b),
                }));
                out.push('\n');
            }
            i = end;
        }
        out
    }

    /// A literal string's bytes from after its `(`; and where it ends.
    fn literal(pdf: &[u8], mut i: usize) -> (Vec<u8>, usize) {
        let (mut out, mut depth) = (Vec::new(), 0);
        while i < pdf.len() {
            match pdf[i] {
                b'\\' => {
                    i += 1;
                    let c = pdf.get(i).copied().unwrap_or(b'\\');
                    if c.is_ascii_digit() {
                        let digits: Vec<u8> = pdf[i..]
                            .iter()
                            .take(3)
                            .take_while(|d| d.is_ascii_digit())
                            .copied()
                            .collect();
                        let n = digits.iter().fold(0u32, |n, d| n * 8 + u32::from(d - b'0'));
                        out.push(n as u8);
                        i += digits.len() - 1;
                    } else {
                        out.push(match c {
                            b'n' => b'\n',
                            b'r' => b'\r',
                            b't' => b'\t',
                            c => c,
                        });
                    }
                }
                b'(' => {
                    depth += 1;
                    out.push(b'(');
                }
                b')' if depth == 0 => return (out, i + 1),
                b')' => {
                    depth -= 1;
                    out.push(b')');
                }
                b => out.push(b),
            }
            i += 1;
        }
        (out, i)
    }

    /// A hex string's bytes from after its `<`; and where it ends.
    fn hex(pdf: &[u8], i: usize) -> (Vec<u8>, usize) {
        let end = pdf[i..]
            .iter()
            .position(|b| *b == b'>')
            .map_or(pdf.len(), |p| i + p);
        let digits: Vec<u8> = pdf[i..end]
            .iter()
            .filter(|b| b.is_ascii_hexdigit())
            .map(|b| (*b as char).to_digit(16).unwrap_or(0) as u8)
            .collect();
        let bytes = digits
            .chunks(2)
            .map(|p| p[0] * 16 + p.get(1).copied().unwrap_or(0))
            .collect();
        (bytes, (end + 1).min(pdf.len()))
    }

    /// With `VEREDA_IMPACT_SAMPLES=/some/dir`, the rendered PDF is written there to look at.
    fn keep_sample(name: &str, pdf: &[u8]) {
        if let Ok(dir) = std::env::var("VEREDA_IMPACT_SAMPLES") {
            std::fs::write(format!("{dir}/{name}.pdf"), pdf).unwrap();
        }
    }

    fn pages(pdf: &[u8]) -> usize {
        String::from_utf8_lossy(pdf)
            .matches("/Type /Page\n")
            .count()
            + String::from_utf8_lossy(pdf).matches("/Type /Page ").count()
    }

    #[test]
    fn the_sample_report_reads_in_spanish() {
        let pdf = impact_pdf(&sample(), &issuer(), "2027-01-12");
        keep_sample("impact-sample", &pdf);
        assert!(pdf.starts_with(b"%PDF"));
        let text = shown_text(&pdf);
        for expected in [
            "Reporte de impacto",
            "Periodo: de julio de 2026 a diciembre de 2026",
            "Cifras por departamento",
            "Expide: Vereda S.A.S. · NIT 901234567-8",
            "Fecha de generación: 12 de enero de 2027",
            "Cómo leer este reporte",
            "Octubre de 2026",
            "reservado",
            "Reservados (menos de 5 personas o para proteger a otras): Cauca, Chocó.",
            // December's total: 1.080.000 + 5 × 75.000.
            "$ 1.455.000",
            "$ 1.750.905",
            "42,5 %",
            "37,5 %",
            "jul.",
            "Ley 1581 de 2012",
            "Ninguna persona que autorizó el uso de sus datos tuvo ingresos",
        ] {
            assert!(text.contains(expected), "missing {expected:?} in:\n{text}");
        }
        // The very long name is cut, never printed whole.
        assert!(
            !text.contains("larguísimo para probar los cortes"),
            "{text}"
        );
        assert!(text.contains('…'));
    }

    #[test]
    fn an_empty_report_still_renders() {
        let month = Month::parse("2026-07").unwrap();
        let report = Report {
            from: month,
            to: month,
            by: By::Cohort,
            rural_reference: dec!(800000),
            months: vec![],
            labels: BTreeMap::new(),
        };
        let pdf = impact_pdf(&report, &issuer(), "2027-01-12");
        keep_sample("impact-empty", &pdf);
        assert!(pdf.starts_with(b"%PDF"));
        let text = shown_text(&pdf);
        assert!(text.contains("no tiene meses"), "{text}");
        assert_eq!(pages(&pdf), 1);
    }

    #[test]
    fn a_report_with_everything_reserved_renders() {
        let mut report = sample();
        report.by = By::Group;
        for m in &mut report.months {
            m.total = None;
            m.cells.iter_mut().for_each(|c| c.figures = None);
        }
        let pdf = impact_pdf(&report, &issuer(), "2027-01-12");
        keep_sample("impact-reserved", &pdf);
        assert!(pdf.starts_with(b"%PDF"));
        let text = shown_text(&pdf);
        assert!(
            text.contains("Ningún mes del periodo tiene suficientes personas"),
            "{text}"
        );
        assert!(
            text.contains("En ningún mes del periodo hay cifras por grupo del programa"),
            "{text}"
        );
        assert!(text.contains("reservado (menos de 5 personas"), "{text}");
    }

    #[test]
    fn many_cells_and_months_paginate() {
        // Two years, 60 municipalities a month: the tables run over many pages.
        let from = Month::parse("2026-01").unwrap();
        let mut m = from;
        let mut months = Vec::new();
        let mut labels = BTreeMap::new();
        for _ in 0..24 {
            let cells = (0..60i64)
                .map(|k| {
                    let key = format!("{:05}", 5001 + k);
                    labels.insert(
                        key.clone(),
                        format!("Municipio número {k} de un departamento"),
                    );
                    cell(
                        &key,
                        (k % 7 != 0)
                            .then(|| figures(5 + k as usize, 400_000 + k * 41_000, Some(300_000))),
                    )
                })
                .collect();
            months.push(MonthReport {
                month: m,
                yardsticks: yardsticks(m),
                total: Some(figures(900, 1_300_000, Some(500_000))),
                cells,
            });
            m = m.next();
        }
        let report = Report {
            from,
            to: months.last().unwrap().month,
            by: By::Municipality,
            rural_reference: dec!(800000),
            months,
            labels,
        };
        let pdf = impact_pdf(&report, &issuer(), "2028-01-05");
        keep_sample("impact-long", &pdf);
        let text = shown_text(&pdf);
        assert!(text.contains("(continuación)"), "{text}");
        assert!(text.contains("Diciembre de 2027"));
        assert!(pages(&pdf) > 20);
    }
}
