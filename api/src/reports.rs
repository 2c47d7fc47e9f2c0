//! The impact report (issue 22 §2): `GET /v1/reports/impact` (and `/csv`, `/pdf`), for staff
//! and the read-only `funder` role. Only workers consenting now are counted; what
//! they earned is what accrued for their approved work, by the Bogotá month it was approved.
//! Suppression and figures are `contracts::impact`; this gathers the people and names cells.

use std::collections::{BTreeMap, HashMap};

use chrono::{DateTime, Utc};
use poem::web::Data;
use poem_openapi::param::Query;
use poem_openapi::payload::{Binary, Json, PlainText};
use poem_openapi::{ApiResponse, Object, OpenApi};
use rust_decimal::Decimal;
use vereda_contracts::consent;
use vereda_contracts::csvfile::{self, Cell as CsvCell};
use vereda_contracts::identity::Role;
use vereda_contracts::impact::{self, By, Figures, MonthReport, PersonMonth, Report, Yardsticks};
use vereda_contracts::money::Cop;
use vereda_contracts::places::divipola;
use vereda_contracts::statements::Month;
use vereda_contracts::time;
use vereda_store::on_db;

use crate::ApiTags;
use crate::auth::BearerAuth;
use crate::problem::ApiError;
use crate::startup::AppState;

/// The longest period one report covers, in months.
const MAX_MONTHS: usize = 36;

/// Workers consenting now: the latest ledger row per worker is read in Rust (one statement on
/// both databases), then their place, cohort, groups and baseline.
const LEDGER: &str = "SELECT worker_id, action FROM consents WHERE purpose = $1 \
                      ORDER BY worker_id, at, id";
const PROFILES: &str = "SELECT id, department_code, municipality_code, created_at \
                        FROM worker_profiles";
const GROUPS: &str = "SELECT worker_id, group_code FROM worker_groups";
const BASELINES: &str = "SELECT worker_id, monthly_income FROM worker_baselines";
const GROUP_LABELS: &str = "SELECT code, label FROM programme_groups";
/// What accrued in the period (`work` in centavos), by approval time.
const EARNED: &str = "SELECT worker_id, approved_at, seconds, work FROM accruals \
                      WHERE approved_at >= $1 AND approved_at < $2";

/// A cell's figures. Money in whole pesos, as decimal strings.
#[derive(Debug, Object)]
pub struct ImpactFigures {
    pub people: i64,
    /// Approved hours, one decimal.
    pub hours: String,
    pub income_median: String,
    pub income_mean: String,
    /// Percent whose income that month reached one SMMLV.
    pub at_least_smmlv_percent: String,
    /// Mean income over the rural reference (`2` = twice).
    pub mean_vs_rural: String,
    /// How many gave their household's income before joining.
    pub people_with_baseline: i64,
    /// Their mean household income before joining (absent when they are too few to show).
    #[oai(skip_serializing_if_is_none)]
    pub baseline_mean: Option<String>,
    /// Percent of them whose income that month reached twice that (absent likewise).
    #[oai(skip_serializing_if_is_none)]
    pub doubled_percent: Option<String>,
}

impl From<&Figures> for ImpactFigures {
    fn from(f: &Figures) -> Self {
        ImpactFigures {
            people: f.people as i64,
            hours: f.hours.to_string(),
            income_median: f.income_median.to_string(),
            income_mean: f.income_mean.to_string(),
            at_least_smmlv_percent: f.at_least_smmlv_percent.to_string(),
            mean_vs_rural: f.mean_vs_rural.to_string(),
            people_with_baseline: f.people_with_baseline as i64,
            baseline_mean: f.baseline.as_ref().map(|b| b.baseline_mean.to_string()),
            doubled_percent: f.baseline.as_ref().map(|b| b.doubled_percent.to_string()),
        }
    }
}

/// A cell of a month: a department, municipality, group or cohort.
#[derive(Debug, Object)]
pub struct ImpactCell {
    /// DANE code, group code, or cohort month; `none` for unknown / no group.
    pub key: String,
    /// Its name for people.
    pub label: String,
    /// Absent when suppressed: fewer than 5 people, or hidden so that one cannot be derived.
    #[oai(skip_serializing_if_is_none)]
    pub figures: Option<ImpactFigures>,
}

#[derive(Debug, Object)]
pub struct ImpactMonth {
    /// `YYYY-MM`.
    pub month: String,
    /// `octubre de 2026`.
    pub month_es: String,
    /// The SMMLV in force that month.
    pub smmlv: String,
    /// Everyone counted that month (absent when fewer than 5).
    #[oai(skip_serializing_if_is_none)]
    pub total: Option<ImpactFigures>,
    pub cells: Vec<ImpactCell>,
}

#[derive(Debug, Object)]
pub struct ImpactReport {
    pub from: String,
    pub to: String,
    /// `department`, `municipality`, `group` or `cohort`.
    pub by: String,
    /// The fewest people a shown figure describes.
    pub min_people: i64,
    /// The programme's reference for rural income, pesos a month (`VEREDA_RURAL_BASELINE`).
    pub rural_reference: String,
    pub generated_at: DateTime<Utc>,
    /// Oldest first.
    pub months: Vec<ImpactMonth>,
}

#[derive(ApiResponse)]
pub enum ImpactOk {
    #[oai(status = 200)]
    Ok(Json<ImpactReport>),
}

#[derive(ApiResponse)]
pub enum ImpactCsvOk {
    #[oai(status = 200, content_type = "text/csv; charset=utf-8")]
    Csv(
        PlainText<String>,
        #[oai(header = "Content-Disposition")] String,
    ),
}

#[derive(ApiResponse)]
pub enum ImpactPdfOk {
    #[oai(status = 200, content_type = "application/pdf")]
    Pdf(
        Binary<Vec<u8>>,
        #[oai(header = "Content-Disposition")] String,
    ),
}

fn month_param(field: &str, raw: &str) -> Result<Month, ApiError> {
    Month::parse(raw).ok_or_else(|| {
        let mut e = ApiError::invalid(field, "must be a month YYYY-MM");
        e.detail_es = Some(
            format!(
                "Indique el mes {} como año-mes, por ejemplo 2026-07.",
                if field == "from" { "inicial" } else { "final" }
            )
            .into(),
        );
        e
    })
}

/// Gather the consenting people's months and build the report.
async fn build(state: &AppState, from: Month, to: Month, by: By) -> Result<Report, ApiError> {
    let db = &state.db;
    let ledger: Vec<(String, String)> = on_db!(db, |p| sqlx::query_as(LEDGER)
        .bind(consent::PURPOSE)
        .fetch_all(p)
        .await)?;
    let mut latest: HashMap<String, String> = HashMap::new();
    for (w, action) in ledger {
        latest.insert(w, action);
    }
    let consenting = |w: &str| latest.get(w).map(String::as_str) == Some("given");
    type ProfileRow = (String, Option<String>, Option<String>, i64);
    let profiles: Vec<ProfileRow> = on_db!(db, |p| sqlx::query_as(PROFILES).fetch_all(p).await)?;
    let groups: Vec<(String, String)> = on_db!(db, |p| sqlx::query_as(GROUPS).fetch_all(p).await)?;
    let baselines: Vec<(String, String)> =
        on_db!(db, |p| sqlx::query_as(BASELINES).fetch_all(p).await)?;
    let earned: Vec<(String, i64, i64, i64)> = on_db!(db, |p| sqlx::query_as(EARNED)
        .bind(from.start())
        .bind(to.end())
        .fetch_all(p)
        .await)?;

    let mut groups_of: HashMap<&str, Vec<String>> = HashMap::new();
    for (w, g) in &groups {
        groups_of.entry(w).or_default().push(g.clone());
    }
    let baseline_of: HashMap<&str, Decimal> = baselines
        .iter()
        .filter_map(|(w, b)| Some((w.as_str(), b.parse().ok()?)))
        .collect();
    let profile_of: HashMap<&str, &ProfileRow> =
        profiles.iter().map(|p| (p.0.as_str(), p)).collect();
    // (worker, month) → (seconds, centavos)
    let mut sums: BTreeMap<(Month, &str), (i64, i64)> = BTreeMap::new();
    for (w, at, seconds, work) in &earned {
        if !consenting(w) {
            continue;
        }
        let m = Month::of(time::from_unix(*at));
        let e = sums.entry((m, w.as_str())).or_default();
        e.0 += seconds;
        e.1 += work;
    }

    let rural = state.settings.rural_baseline.amount();
    let mut months = Vec::new();
    let mut month = from;
    loop {
        let people: Vec<PersonMonth> = sums
            .range((month, "")..)
            .take_while(|((m, _), _)| *m == month)
            .filter_map(|((_, w), (seconds, centavos))| {
                let p = profile_of.get(w)?;
                Some(PersonMonth {
                    department: p.1.clone(),
                    municipality: p.2.clone(),
                    cohort: Month::of(time::from_unix(p.3)).to_string(),
                    groups: groups_of.get(w).cloned().unwrap_or_default(),
                    seconds: *seconds,
                    income: Cop::from_centavos(*centavos).amount(),
                    baseline: baseline_of.get(w).copied(),
                })
            })
            .collect();
        let y = Yardsticks {
            smmlv: state
                .settings
                .legal
                .smmlv(month.first_day())
                .map_or(Decimal::ZERO, Cop::amount),
            rural_reference: rural,
        };
        months.push(impact::month_report(month, &people, y, by));
        if month == to {
            break;
        }
        month = month.next();
    }

    let group_labels: Vec<(String, String)> =
        on_db!(db, |p| sqlx::query_as(GROUP_LABELS).fetch_all(p).await)?;
    let mut labels = BTreeMap::new();
    for m in &months {
        for c in &m.cells {
            labels
                .entry(c.key.clone())
                .or_insert_with(|| label(by, &c.key, &group_labels));
        }
    }
    Ok(Report {
        from,
        to,
        by,
        rural_reference: rural,
        months,
        labels,
    })
}

/// A cell key's name for people.
fn label(by: By, key: &str, groups: &[(String, String)]) -> String {
    if key == impact::NONE_KEY {
        return match by {
            By::Group => "Sin grupo registrado".into(),
            _ => "Lugar sin código DANE".into(),
        };
    }
    match by {
        By::Department => divipola()
            .departments()
            .iter()
            .find(|d| d.code == key)
            .map_or_else(|| key.to_string(), |d| d.name.clone()),
        By::Municipality => divipola().by_code(key).map_or_else(
            || key.to_string(),
            |p| format!("{} ({})", p.municipality.name, p.department.name),
        ),
        By::Group => groups
            .iter()
            .find(|(c, _)| c == key)
            .map_or_else(|| key.to_string(), |(_, l)| l.clone()),
        By::Cohort => Month::parse(key).map_or_else(
            || key.to_string(),
            |m| format!("Ingresaron en {}", m.name_es()),
        ),
    }
}

fn json_of(r: &Report) -> ImpactReport {
    ImpactReport {
        from: r.from.to_string(),
        to: r.to.to_string(),
        by: r.by.as_str().into(),
        min_people: impact::MIN_PEOPLE as i64,
        rural_reference: r.rural_reference.to_string(),
        generated_at: time::now(),
        months: r.months.iter().map(|m| month_json(r, m)).collect(),
    }
}

fn month_json(r: &Report, m: &MonthReport) -> ImpactMonth {
    ImpactMonth {
        month: m.month.to_string(),
        month_es: m.month.name_es(),
        smmlv: m.yardsticks.smmlv.to_string(),
        total: m.total.as_ref().map(ImpactFigures::from),
        cells: m
            .cells
            .iter()
            .map(|c| ImpactCell {
                label: r.label(&c.key).into(),
                key: c.key.clone(),
                figures: c.figures.as_ref().map(ImpactFigures::from),
            })
            .collect(),
    }
}

/// One row a month and cell (the total first); a suppressed cell says so in `reservado`.
fn csv_of(r: &Report) -> String {
    let header = [
        "mes",
        "desglose",
        "clave",
        "nombre",
        "reservado",
        "personas",
        "horas",
        "ingreso_mediano",
        "ingreso_promedio",
        "pct_al_menos_smmlv",
        "veces_referencia_rural",
        "personas_con_ingreso_previo",
        "ingreso_previo_promedio",
        "pct_duplico",
        "smmlv",
    ];
    let row = |m: &MonthReport, key: &str, name: &str, f: Option<&Figures>| -> Vec<CsvCell> {
        let mut cells = vec![
            CsvCell::text(m.month.to_string()),
            CsvCell::text(r.by.as_str()),
            CsvCell::text(key),
            CsvCell::text(name),
            CsvCell::text(if f.is_some() { "no" } else { "si" }),
        ];
        match f {
            Some(f) => {
                let b = f.baseline.as_ref();
                cells.extend([
                    CsvCell::number(f.people),
                    CsvCell::number(f.hours),
                    CsvCell::number(f.income_median),
                    CsvCell::number(f.income_mean),
                    CsvCell::number(f.at_least_smmlv_percent),
                    CsvCell::number(f.mean_vs_rural),
                    CsvCell::number(f.people_with_baseline),
                    b.map_or_else(CsvCell::empty, |b| CsvCell::number(b.baseline_mean)),
                    b.map_or_else(CsvCell::empty, |b| CsvCell::number(b.doubled_percent)),
                ]);
            }
            None => cells.extend((0..9).map(|_| CsvCell::empty())),
        }
        cells.push(CsvCell::number(m.yardsticks.smmlv));
        cells
    };
    let mut rows = Vec::new();
    for m in &r.months {
        rows.push(row(m, "total", "Total", m.total.as_ref()));
        for c in &m.cells {
            rows.push(row(m, &c.key, r.label(&c.key), c.figures.as_ref()));
        }
    }
    csvfile::write(&header, rows)
}

pub struct ReportsApi;

/// The period and breakdown asked for, checked; defaults: the last twelve months, by
/// department.
fn period(
    from: Option<&str>,
    to: Option<&str>,
    by: Option<&str>,
) -> Result<(Month, Month, By), ApiError> {
    let to = match to {
        Some(raw) => month_param("to", raw)?,
        None => Month::of(time::now()),
    };
    let from = match from {
        Some(raw) => month_param("from", raw)?,
        None => (0..MAX_MONTHS / 3 - 1).fold(to, |m, _| m.prev()),
    };
    let by = match by {
        None => By::Department,
        Some(raw) => By::parse(raw).ok_or_else(|| {
            let mut e =
                ApiError::invalid("by", "must be department, municipality, group or cohort");
            e.detail_es =
                Some("El desglose debe ser por departamento, municipio, grupo o cohorte.".into());
            e
        })?,
    };
    let span = std::iter::successors(Some(from), |m| (*m < to).then(|| m.next()))
        .take(MAX_MONTHS + 1)
        .count();
    if to < from || span > MAX_MONTHS {
        let mut e = ApiError::invalid(
            "to",
            format!("must be from `from` to at most {MAX_MONTHS} months after it"),
        );
        e.detail_es = Some(
            format!(
                "El mes final debe ser igual o posterior al inicial, y el periodo de máximo \
                 {MAX_MONTHS} meses."
            )
            .into(),
        );
        return Err(e);
    }
    Ok((from, to, by))
}

/// Who reads the report: staff and funders.
const READERS: &[Role] = &[Role::Admin, Role::Finance, Role::Funder];

/// `reporte-impacto-2026-01-2026-12-department`.
fn file_name(r: &Report) -> String {
    format!("reporte-impacto-{}-{}-{}", r.from, r.to, r.by.as_str())
}

#[OpenApi(prefix_path = "/v1/reports", tag = "ApiTags::Invoicing")]
impl ReportsApi {
    /// The impact report (admin, finance, funder)
    ///
    /// Month by month from `from` to `to` (`YYYY-MM`, at most 36 months; by default the last
    /// twelve), broken down `by` `department`, `municipality`, `group` (programme groups; a
    /// person may be in several) or `cohort` (the month she joined): people active (earning
    /// that month), approved hours, income per person (median and mean), the share at or above
    /// one SMMLV, the mean over the rural reference, and, over those who gave it, their
    /// household's income before joining and the share whose income reached twice it. Only
    /// workers who consent now to impact reports are counted. A figure never describes fewer
    /// than 5 people: such a cell is suppressed, and others with it, so that no combination of
    /// cells of any breakdown recovers anyone. The same as CSV at `/v1/reports/impact/csv` and
    /// as a Spanish PDF with charts at `/v1/reports/impact/pdf`.
    #[oai(path = "/impact", method = "get")]
    async fn impact(
        &self,
        state: Data<&AppState>,
        auth: BearerAuth,
        /// First month, `YYYY-MM` (default: eleven months before `to`).
        from: Query<Option<String>>,
        /// Last month, `YYYY-MM` (default: this month).
        to: Query<Option<String>>,
        by: Query<Option<String>>,
    ) -> Result<ImpactOk, ApiError> {
        auth.0.require(READERS)?;
        let (from, to, by) = period(from.0.as_deref(), to.0.as_deref(), by.0.as_deref())?;
        let report = build(&state, from, to, by).await?;
        Ok(ImpactOk::Ok(Json(json_of(&report))))
    }

    /// The impact report as CSV, a row a month and cell (admin, finance, funder)
    #[oai(path = "/impact/csv", method = "get")]
    async fn impact_csv(
        &self,
        state: Data<&AppState>,
        auth: BearerAuth,
        from: Query<Option<String>>,
        to: Query<Option<String>>,
        by: Query<Option<String>>,
    ) -> Result<ImpactCsvOk, ApiError> {
        auth.0.require(READERS)?;
        let (from, to, by) = period(from.0.as_deref(), to.0.as_deref(), by.0.as_deref())?;
        let report = build(&state, from, to, by).await?;
        Ok(ImpactCsvOk::Csv(
            PlainText(csv_of(&report)),
            format!("attachment; filename=\"{}.csv\"", file_name(&report)),
        ))
    }

    /// The impact report as a PDF in Spanish, with charts (admin, finance, funder)
    #[oai(path = "/impact/pdf", method = "get")]
    async fn impact_pdf(
        &self,
        state: Data<&AppState>,
        auth: BearerAuth,
        from: Query<Option<String>>,
        to: Query<Option<String>>,
        by: Query<Option<String>>,
    ) -> Result<ImpactPdfOk, ApiError> {
        auth.0.require(READERS)?;
        let (from, to, by) = period(from.0.as_deref(), to.0.as_deref(), by.0.as_deref())?;
        let report = build(&state, from, to, by).await?;
        Ok(ImpactPdfOk::Pdf(
            Binary(pdf_of(&state, &report)),
            format!("attachment; filename=\"{}.pdf\"", file_name(&report)),
        ))
    }
}

fn pdf_of(state: &AppState, report: &Report) -> Vec<u8> {
    let today = time::now()
        .with_timezone(&vereda_contracts::time::BOGOTA)
        .date_naive();
    vereda_documents::impact::impact_pdf(
        report,
        &state.settings.issuer(),
        &vereda_contracts::statements::date_es(today),
    )
}
