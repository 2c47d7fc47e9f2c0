//! The impact report (issue 22 §2), pure: people active, hours and income per person per
//! month, the share at or above one SMMLV and the share whose income reached twice their
//! household's income before joining, by department, municipality, programme group or cohort.
//!
//! Nobody may be recoverable from it. Every figure describes at least [`MIN_PEOPLE`] people,
//! and suppression is decided for a month jointly over *every* breakdown the endpoint can give
//! (all four, and the month's total), since anyone can ask for all of them. Three steps:
//! 1. a cell of fewer than [`MIN_PEOPLE`] is suppressed (primary);
//! 2. in a breakdown that splits people (department, municipality, cohort), the suppressed
//!    cells together must hold at least [`MIN_PEOPLE`] in at least two cells, or the next
//!    smallest is suppressed too, so a suppressed cell is not the total minus the rest;
//! 3. an audit: every published figure here is a sum over the people of a cell (a mean is a
//!    sum over a published count), so what anyone can derive is a linear combination of the
//!    published cells' membership rows. A person is recoverable exactly when her unit vector
//!    lies in their span, and a small hidden cell when its own row does; while either does, the
//!    smallest shown cell that derivation uses is suppressed too.
//!    The test is exact linear algebra (see [`Span`]).
//!
//! The household-income figures are over a smaller group (those who gave it), so they are
//! suppressed on their own by the same three steps. Medians are not sums; a median is shown
//! only for a cell that is shown.

use std::collections::HashMap;

use rust_decimal::prelude::ToPrimitive;
use rust_decimal::{Decimal, RoundingStrategy};

use crate::statements::Month;

/// The fewest people a published figure may describe.
pub const MIN_PEOPLE: usize = 5;

/// The key of people whose breakdown value is unknown (a place recorded before places were
/// checked) or, for groups, who gave none.
pub const NONE_KEY: &str = "none";

/// A breakdown of the report.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum By {
    Department,
    Municipality,
    Group,
    Cohort,
}

impl By {
    pub const ALL: [By; 4] = [By::Department, By::Municipality, By::Group, By::Cohort];

    pub fn as_str(self) -> &'static str {
        match self {
            By::Department => "department",
            By::Municipality => "municipality",
            By::Group => "group",
            By::Cohort => "cohort",
        }
    }

    pub fn parse(s: &str) -> Option<By> {
        By::ALL.into_iter().find(|b| b.as_str() == s)
    }

    pub fn label_es(self) -> &'static str {
        match self {
            By::Department => "departamento",
            By::Municipality => "municipio",
            By::Group => "grupo del programa",
            By::Cohort => "cohorte (mes de ingreso)",
        }
    }

    /// Whether each person is in exactly one cell (groups overlap: a person may be in two).
    fn splits(self) -> bool {
        self != By::Group
    }
}

/// One consenting person's month: where she is, what she gave, what she earned.
#[derive(Debug, Clone, PartialEq)]
pub struct PersonMonth {
    /// DANE codes; `None` when unknown.
    pub department: Option<String>,
    pub municipality: Option<String>,
    /// The month she joined, `YYYY-MM`.
    pub cohort: String,
    pub groups: Vec<String>,
    /// Approved time that month.
    pub seconds: i64,
    /// What she earned that month (accrued for approved work), pesos.
    pub income: Decimal,
    /// Her household's monthly income before joining, when she gave it.
    pub baseline: Option<Decimal>,
}

impl PersonMonth {
    /// The cells of a breakdown she belongs to.
    fn keys(&self, by: By) -> Vec<String> {
        let or_none = |k: &Option<String>| k.clone().unwrap_or_else(|| NONE_KEY.into());
        match by {
            By::Department => vec![or_none(&self.department)],
            By::Municipality => vec![or_none(&self.municipality)],
            By::Cohort => vec![self.cohort.clone()],
            By::Group if self.groups.is_empty() => vec![NONE_KEY.into()],
            By::Group => self.groups.clone(),
        }
    }
}

/// What the month is measured against.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Yardsticks {
    /// The legal monthly minimum wage in force that month.
    pub smmlv: Decimal,
    /// The programme's reference for rural income (about USD 200 a month), pesos.
    pub rural_reference: Decimal,
}

/// The figures of a cell of at least [`MIN_PEOPLE`] people.
#[derive(Debug, Clone, PartialEq)]
pub struct Figures {
    pub people: usize,
    /// Approved hours, one decimal.
    pub hours: Decimal,
    /// Income per person that month, whole pesos.
    pub income_median: Decimal,
    pub income_mean: Decimal,
    /// Percent of people whose income reached one SMMLV, one decimal.
    pub at_least_smmlv_percent: Decimal,
    /// Mean income over the rural reference (2 = twice), two decimals.
    pub mean_vs_rural: Decimal,
    /// How many gave their household's income before joining.
    pub people_with_baseline: usize,
    /// Over those who gave it, when they are enough to show.
    pub baseline: Option<BaselineFigures>,
}

/// The figures over those who gave their household's income before joining.
#[derive(Debug, Clone, PartialEq)]
pub struct BaselineFigures {
    /// Mean household income before joining, whole pesos.
    pub baseline_mean: Decimal,
    /// Percent whose income that month reached twice their baseline, one decimal.
    pub doubled_percent: Decimal,
}

/// A cell: its key and its figures, `None` when suppressed.
#[derive(Debug, Clone, PartialEq)]
pub struct Cell {
    pub key: String,
    pub figures: Option<Figures>,
}

/// A month of the report, in the breakdown asked for.
#[derive(Debug, Clone, PartialEq)]
pub struct MonthReport {
    pub month: Month,
    pub yardsticks: Yardsticks,
    /// Everyone that month; `None` when they are fewer than [`MIN_PEOPLE`].
    pub total: Option<Figures>,
    /// Sorted by key.
    pub cells: Vec<Cell>,
}

/// The whole report, as the API, its CSV and its PDF show it.
#[derive(Debug, Clone, PartialEq)]
pub struct Report {
    pub from: Month,
    pub to: Month,
    pub by: By,
    /// The programme's reference for rural income, pesos a month.
    pub rural_reference: Decimal,
    /// Oldest first.
    pub months: Vec<MonthReport>,
    /// Each cell key's name for people: `Antioquia`, `Mujer cabeza de hogar`, `marzo de 2026`.
    pub labels: std::collections::BTreeMap<String, String>,
}

impl Report {
    /// A key's name for people (the key itself when unnamed).
    pub fn label<'a>(&'a self, key: &'a str) -> &'a str {
        self.labels.get(key).map_or(key, String::as_str)
    }
}

/// The month's report in breakdown `by`, suppressed as the module says.
pub fn month_report(month: Month, people: &[PersonMonth], y: Yardsticks, by: By) -> MonthReport {
    let active: Vec<&PersonMonth> = people.iter().filter(|p| p.income > Decimal::ZERO).collect();
    let all: Vec<usize> = (0..active.len()).collect();
    let with_baseline: Vec<usize> = all
        .iter()
        .copied()
        .filter(|&i| active[i].baseline.is_some())
        .collect();
    let shown = published(&active, &all);
    let shown_baseline = published(&active, &with_baseline);

    let figures = |members: &[usize], show: bool, show_baseline: bool| -> Option<Figures> {
        show.then(|| figures_of(&active, members, y, show_baseline))
    };
    let total = figures(&all, shown.total, shown_baseline.total);
    let cells = cells_of(&active, &all, by)
        .into_iter()
        .map(|(key, members)| {
            let show = shown.cells.get(&(by, key.clone())) == Some(&true);
            let show_b = shown_baseline.cells.get(&(by, key.clone())) == Some(&true);
            Cell {
                figures: figures(&members, show, show_b),
                key,
            }
        })
        .collect();
    MonthReport {
        month,
        yardsticks: y,
        total,
        cells,
    }
}

/// The cells of a breakdown over some of the people (indices into `active`), sorted by key.
fn cells_of(active: &[&PersonMonth], among: &[usize], by: By) -> Vec<(String, Vec<usize>)> {
    let mut cells: std::collections::BTreeMap<String, Vec<usize>> = Default::default();
    for &i in among {
        for k in active[i].keys(by) {
            cells.entry(k).or_default().push(i);
        }
    }
    cells.into_iter().collect()
}

/// Which cells may be shown, over one group of people.
struct Shown {
    total: bool,
    cells: HashMap<(By, String), bool>,
}

/// Decide suppression over `among` jointly for every breakdown (the module's three steps).
fn published(active: &[&PersonMonth], among: &[usize]) -> Shown {
    // Every breakdown's cells, as (breakdown, key, members).
    let mut all: Vec<(By, String, Vec<usize>)> = Vec::new();
    for by in By::ALL {
        for (key, members) in cells_of(active, among, by) {
            all.push((by, key, members));
        }
    }
    let total_ok = among.len() >= MIN_PEOPLE;
    // 1. Primary.
    let mut show: Vec<bool> = all
        .iter()
        .map(|(_, _, m)| total_ok && m.len() >= MIN_PEOPLE)
        .collect();
    // 2. Complementary, within each breakdown that splits people.
    for by in By::ALL.into_iter().filter(|b| b.splits()) {
        let idx: Vec<usize> = (0..all.len()).filter(|&c| all[c].0 == by).collect();
        loop {
            let hidden: Vec<usize> = idx.iter().copied().filter(|&c| !show[c]).collect();
            let hidden_people: usize = hidden.iter().map(|&c| all[c].2.len()).sum();
            if hidden.is_empty() || (hidden.len() >= 2 && hidden_people >= MIN_PEOPLE) {
                break;
            }
            match smallest(&all, &show, idx.iter().copied()) {
                Some(c) => show[c] = false,
                None => break,
            }
        }
    }
    // 3. The audit: no one, and no small hidden cell, may be derived from what is shown. When
    // one can be, the smallest shown cell its derivation uses is hidden too, and again.
    let mut total = total_ok;
    while total {
        let shown: Vec<usize> = (0..all.len()).filter(|&c| show[c]).collect();
        let rows: Vec<&[usize]> = std::iter::once(among)
            .chain(shown.iter().map(|&c| all[c].2.as_slice()))
            .collect();
        let span = Span::of(&rows, among);
        let leak = span
            .isolated()
            .first()
            .and_then(|&p| span.derivation(&[p]))
            .or_else(|| {
                (0..all.len())
                    .filter(|&c| !show[c] && all[c].2.len() < MIN_PEOPLE)
                    .find_map(|c| span.derivation(&all[c].2))
            });
        let Some(used) = leak else { break };
        // Row 0 is the total; the others are the shown cells in order.
        let cells = used.into_iter().filter(|&r| r > 0).map(|r| shown[r - 1]);
        match smallest(&all, &show, cells) {
            Some(c) => show[c] = false,
            // Only the total gives it away: a month of too few distinct people.
            None => {
                total = false;
                show.iter_mut().for_each(|s| *s = false);
            }
        }
    }
    Shown {
        total,
        cells: all
            .into_iter()
            .zip(show)
            .map(|((by, key, _), s)| ((by, key), s && total))
            .collect(),
    }
}

/// The shown cell among `candidates` with the fewest people (ties: the first).
fn smallest(
    all: &[(By, String, Vec<usize>)],
    show: &[bool],
    candidates: impl Iterator<Item = usize>,
) -> Option<usize> {
    candidates
        .filter(|&c| show[c])
        .min_by_key(|&c| all[c].2.len())
}

/// What sums over some rows (each a set of people) let anyone derive: the span of the rows'
/// membership vectors.
///
/// People with the same membership in every row are one column (nothing tells them apart, so
/// neither is recoverable; a column of several people never is). The span is computed by
/// Gaussian elimination modulo the prime 2⁶¹ − 1: a combination that gives a vector over the
/// rationals gives it modulo the prime, so nothing derivable is missed; the converse can fail
/// only if the prime divides a minor of a 0/1 matrix, which errs towards suppressing more.
pub struct Span {
    /// Per column: the people in it.
    columns: Vec<Vec<usize>>,
    column_of: HashMap<usize, usize>,
    /// The rows in reduced echelon form, and (row, column) of each pivot.
    reduced: Vec<Vec<u64>>,
    pivots: Vec<(usize, usize)>,
}

impl Span {
    pub fn of(rows: &[&[usize]], among: &[usize]) -> Span {
        let mut signature: HashMap<usize, Vec<usize>> = HashMap::new();
        for (r, row) in rows.iter().enumerate() {
            for &p in row.iter() {
                signature.entry(p).or_default().push(r);
            }
        }
        let mut by_signature: HashMap<Vec<usize>, Vec<usize>> = HashMap::new();
        for &p in among {
            by_signature
                .entry(signature.remove(&p).unwrap_or_default())
                .or_default()
                .push(p);
        }
        let mut grouped: Vec<(Vec<usize>, Vec<usize>)> = by_signature.into_iter().collect();
        grouped.sort();
        let n = grouped.len();
        // Each row carries, after its n columns, which of the given rows it is made of.
        let mut reduced: Vec<Vec<u64>> = vec![vec![0; n + rows.len()]; rows.len()];
        for (r, row) in reduced.iter_mut().enumerate() {
            row[n + r] = 1;
        }
        let mut column_of = HashMap::new();
        for (c, (sig, people)) in grouped.iter().enumerate() {
            for &r in sig {
                reduced[r][c] = 1;
            }
            for &p in people {
                column_of.insert(p, c);
            }
        }
        let pivots = reduce(&mut reduced, n);
        Span {
            columns: grouped.into_iter().map(|(_, people)| people).collect(),
            column_of,
            reduced,
            pivots,
        }
    }

    /// The people whose own values can be derived: those whose unit vector is in the span
    /// (a pivot column alone in its row).
    pub fn isolated(&self) -> Vec<usize> {
        let n = self.columns.len();
        let mut out: Vec<usize> = self
            .pivots
            .iter()
            .filter(|&&(row, c)| {
                self.columns[c].len() == 1 && (0..n).all(|k| k == c || self.reduced[row][k] == 0)
            })
            .map(|&(_, c)| self.columns[c][0])
            .collect();
        out.sort_unstable();
        out
    }

    /// Whether the sum over `people` can be derived (their indicator is in the span).
    pub fn contains(&self, people: &[usize]) -> bool {
        self.derivation(people).is_some()
    }

    /// The given rows a derivation of the sum over `people` uses, when there is one.
    pub fn derivation(&self, people: &[usize]) -> Option<Vec<usize>> {
        let n = self.columns.len();
        let width = self.reduced.first().map_or(n, Vec::len);
        let mut v = vec![0u64; width];
        let mut count = vec![0usize; n];
        for p in people {
            *count.get_mut(*self.column_of.get(p)?)? += 1;
        }
        // Constant on each column, or no combination of rows gives it.
        for (c, (&k, column)) in count.iter().zip(&self.columns).enumerate() {
            match k {
                0 => {}
                k if k == column.len() => v[c] = 1,
                _ => return None,
            }
        }
        // Subtract pivot rows; what remains in the first n columns must be nothing, and the
        // rest is minus the combination of given rows that makes it.
        for &(row, c) in &self.pivots {
            if v[c] != 0 {
                let f = v[c];
                for (k, x) in v.iter_mut().enumerate() {
                    *x = (*x + P - mul(f, self.reduced[row][k])) % P;
                }
            }
        }
        v[..n]
            .iter()
            .all(|&x| x == 0)
            .then(|| (n..width).filter(|&k| v[k] != 0).map(|k| k - n).collect())
    }
}

/// The people (of `among`) whose own values can be derived from sums over `rows`.
pub fn exposed(rows: &[&[usize]], among: &[usize]) -> Vec<usize> {
    Span::of(rows, among).isolated()
}

const P: u64 = (1 << 61) - 1;

fn mul(a: u64, b: u64) -> u64 {
    ((a as u128 * b as u128) % P as u128) as u64
}

fn inverse(a: u64) -> u64 {
    // Fermat: a^(P-2).
    let (mut base, mut exp, mut acc) = (a, P - 2, 1u64);
    while exp > 0 {
        if exp & 1 == 1 {
            acc = mul(acc, base);
        }
        base = mul(base, base);
        exp >>= 1;
    }
    acc
}

/// Reduced row echelon form in place, pivots among the first `n` columns (the others follow
/// the row operations); returns (row, column) of each pivot.
fn reduce(m: &mut [Vec<u64>], n: usize) -> Vec<(usize, usize)> {
    let mut pivots = Vec::new();
    let mut row = 0;
    for col in 0..n {
        let Some(r) = (row..m.len()).find(|&r| m[r][col] != 0) else {
            continue;
        };
        m.swap(row, r);
        let inv = inverse(m[row][col]);
        m[row].iter_mut().for_each(|x| *x = mul(*x, inv));
        let pivot_row = m[row].clone();
        for (r, other) in m.iter_mut().enumerate() {
            if r != row && other[col] != 0 {
                let f = other[col];
                for (x, p) in other.iter_mut().zip(&pivot_row) {
                    *x = (*x + P - mul(f, *p)) % P;
                }
            }
        }
        pivots.push((row, col));
        row += 1;
        if row == m.len() {
            break;
        }
    }
    pivots
}

fn figures_of(
    active: &[&PersonMonth],
    members: &[usize],
    y: Yardsticks,
    show_baseline: bool,
) -> Figures {
    let n = Decimal::from(members.len());
    let mut incomes: Vec<Decimal> = members.iter().map(|&i| active[i].income).collect();
    incomes.sort();
    let mid = incomes.len() / 2;
    let median = if incomes.len() % 2 == 1 {
        incomes[mid]
    } else {
        (incomes[mid - 1] + incomes[mid]) / Decimal::TWO
    };
    let sum: Decimal = incomes.iter().sum();
    let mean = sum / n;
    let seconds: i64 = members.iter().map(|&i| active[i].seconds).sum();
    let at_least = members
        .iter()
        .filter(|&&i| active[i].income >= y.smmlv)
        .count();
    let givers: Vec<&PersonMonth> = members
        .iter()
        .map(|&i| active[i])
        .filter(|p| p.baseline.is_some())
        .collect();
    let baseline = (show_baseline && !givers.is_empty()).then(|| {
        let b: Decimal = givers.iter().filter_map(|p| p.baseline).sum();
        let doubled = givers
            .iter()
            .filter(|p| p.income >= p.baseline.unwrap_or_default() * Decimal::TWO)
            .count();
        BaselineFigures {
            baseline_mean: pesos(b / Decimal::from(givers.len())),
            doubled_percent: percent(doubled, givers.len()),
        }
    });
    Figures {
        people: members.len(),
        hours: places(Decimal::from(seconds) / Decimal::from(3600), 1),
        income_median: pesos(median),
        income_mean: pesos(mean),
        at_least_smmlv_percent: percent(at_least, members.len()),
        mean_vs_rural: if y.rural_reference > Decimal::ZERO {
            places(mean / y.rural_reference, 2)
        } else {
            places(Decimal::ZERO, 2)
        },
        people_with_baseline: givers.len(),
        baseline,
    }
}

/// Rounded half away from zero to `dp` places, and written with exactly that many.
fn places(d: Decimal, dp: u32) -> Decimal {
    let mut r = d.round_dp_with_strategy(dp, RoundingStrategy::MidpointAwayFromZero);
    r.rescale(dp);
    r
}

fn pesos(d: Decimal) -> Decimal {
    places(d, 0)
}

fn percent(part: usize, whole: usize) -> Decimal {
    places(Decimal::from(part * 100) / Decimal::from(whole.max(1)), 1)
}

/// A percent as people read it: `42,5 %`.
pub fn percent_es(p: Decimal) -> String {
    format!("{} %", p.normalize().to_string().replace('.', ","))
}

/// A ratio as people read it: `1,85 veces`.
pub fn times_es(r: Decimal) -> String {
    let f = r.to_f64().unwrap_or_default();
    format!("{f:.2} veces").replace('.', ",")
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use rust_decimal_macros::dec;

    const Y: Yardsticks = Yardsticks {
        smmlv: dec!(1750905),
        rural_reference: dec!(800000),
    };

    fn month() -> Month {
        Month::parse("2026-10").unwrap()
    }

    fn person(
        dep: &str,
        mun: &str,
        cohort: &str,
        groups: &[&str],
        income: i64,
        baseline: Option<i64>,
    ) -> PersonMonth {
        PersonMonth {
            department: Some(dep.into()),
            municipality: Some(mun.into()),
            cohort: cohort.into(),
            groups: groups.iter().map(|g| g.to_string()).collect(),
            seconds: 3600 * 40,
            income: Decimal::from(income),
            baseline: baseline.map(Decimal::from),
        }
    }

    #[test]
    fn figures_of_a_large_enough_cell() {
        let people: Vec<PersonMonth> = [400_000, 800_000, 1_200_000, 1_800_000, 2_000_000]
            .into_iter()
            .map(|i| person("05", "05001", "2026-01", &[], i, Some(500_000)))
            .collect();
        let r = month_report(month(), &people, Y, By::Department);
        let t = r.total.clone().unwrap();
        assert_eq!(t.people, 5);
        assert_eq!(t.hours, dec!(200.0));
        assert_eq!(t.income_median, dec!(1200000));
        assert_eq!(t.income_mean, dec!(1240000));
        assert_eq!(t.at_least_smmlv_percent, dec!(40.0));
        assert_eq!(t.mean_vs_rural, dec!(1.55));
        let b = t.baseline.unwrap();
        assert_eq!(b.baseline_mean, dec!(500000));
        // 1.2 M, 1.8 M and 2.0 M reached 2 × 500 000; 800 000 did not.
        assert_eq!(b.doubled_percent, dec!(60.0));
        assert_eq!(r.cells[0].figures.as_ref().unwrap().people, 5);
    }

    #[test]
    fn a_small_cell_takes_another_down_with_it() {
        // Antioquia 6, Caldas 6, Cauca 1: Cauca is hidden, and so is the smaller of the
        // others, or Cauca would be the total minus Antioquia and Caldas.
        let mut people = Vec::new();
        for _ in 0..6 {
            people.push(person("05", "05001", "2026-01", &[], 900_000, None));
        }
        for _ in 0..6 {
            people.push(person("17", "17001", "2026-01", &[], 900_000, None));
        }
        people.push(person("19", "19001", "2026-01", &[], 3_000_000, None));
        let r = month_report(month(), &people, Y, By::Department);
        assert!(r.total.is_some());
        let shown: Vec<bool> = r.cells.iter().map(|c| c.figures.is_some()).collect();
        assert_eq!(shown.iter().filter(|s| !**s).count(), 2, "{shown:?}");
        assert!(r.cells[2].figures.is_none());
    }

    #[test]
    fn fewer_than_five_people_show_nothing() {
        let people: Vec<PersonMonth> = (0..4)
            .map(|_| person("05", "05001", "2026-01", &[], 900_000, None))
            .collect();
        let r = month_report(month(), &people, Y, By::Cohort);
        assert!(r.total.is_none());
        assert!(r.cells.iter().all(|c| c.figures.is_none()));
    }

    #[test]
    fn the_audit_finds_a_person_isolated_by_differences() {
        // {0,1,2,3,4,5} and {1,2,3,4,5} differ by person 0 alone.
        let a = [0, 1, 2, 3, 4, 5];
        let b = [1, 2, 3, 4, 5];
        assert_eq!(exposed(&[&a, &b], &a), vec![0]);
        // Two overlapping groups and their union isolate nobody...
        let c = [0, 1, 2, 3, 4, 5, 6, 7];
        let d = [0, 1, 2, 3, 4];
        let e = [3, 4, 5, 6, 7];
        assert!(exposed(&[&c, &d, &e], &c).is_empty());
        // ...but a fourth does: e − f = {3}, and d + e − c − {3} = {4}.
        let f = [4, 5, 6, 7];
        assert_eq!(exposed(&[&c, &d, &e, &f], &c), vec![3, 4]);
    }

    #[test]
    fn a_derivation_through_another_breakdown_is_cut_where_it_runs() {
        // Tolima 6 (women heads of household), Huila 5 (youth), Antioquia 2 (victims):
        // Antioquia = total − Tolima − youth, so the youth cell goes too; the total and
        // Tolima stay.
        let mut people = Vec::new();
        for _ in 0..6 {
            people.push(person(
                "73",
                "73168",
                "2026-01",
                &["woman"],
                900_000,
                Some(400_000),
            ));
        }
        for _ in 0..5 {
            people.push(person("41", "41001", "2026-01", &["youth"], 900_000, None));
        }
        for _ in 0..2 {
            people.push(person(
                "05",
                "05001",
                "2026-01",
                &["victim"],
                900_000,
                Some(300_000),
            ));
        }
        let r = month_report(month(), &people, Y, By::Department);
        assert_eq!(r.total.as_ref().map(|t| t.people), Some(13));
        assert_eq!(r.cells[2].figures.as_ref().map(|f| f.people), Some(6));
        let g = month_report(month(), &people, Y, By::Group);
        assert!(
            g.cells
                .iter()
                .find(|c| c.key == "youth")
                .unwrap()
                .figures
                .is_none()
        );
        assert!(
            g.cells
                .iter()
                .find(|c| c.key == "woman")
                .unwrap()
                .figures
                .is_some()
        );
    }

    /// Exact (rational) check, independent of the modular one: can a rational combination of
    /// the rows equal person `p`'s unit vector? Gaussian elimination over fractions of i128.
    fn recoverable_exactly(rows: &[Vec<usize>], people: usize, target: &[usize]) -> bool {
        // Augmented: columns are people; append the target as an extra row and compare ranks.
        let rank = |m: Vec<Vec<i128>>| -> usize {
            let mut m = m;
            let (mut rank, cols) = (0, people);
            for col in 0..cols {
                let Some(r) = (rank..m.len()).find(|&r| m[r][col] != 0) else {
                    continue;
                };
                m.swap(rank, r);
                for r in 0..m.len() {
                    if r != rank && m[r][col] != 0 {
                        let (a, b) = (m[rank][col], m[r][col]);
                        let pivot_row = m[rank].clone();
                        for (x, p) in m[r].iter_mut().zip(&pivot_row).take(cols) {
                            *x = *x * a - p * b;
                        }
                        let g = m[r].iter().fold(0i128, |g, &x| gcd(g, x.abs()));
                        if g > 1 {
                            m[r].iter_mut().for_each(|x| *x /= g);
                        }
                    }
                }
                rank += 1;
            }
            rank
        };
        let as_matrix = |rows: &[Vec<usize>]| -> Vec<Vec<i128>> {
            rows.iter()
                .map(|r| {
                    let mut v = vec![0i128; people];
                    r.iter().for_each(|&i| v[i] = 1);
                    v
                })
                .collect()
        };
        let base = as_matrix(rows);
        let mut with = base.clone();
        let mut unit = vec![0i128; people];
        target.iter().for_each(|&p| unit[p] = 1);
        with.push(unit);
        rank(base) == rank(with)
    }

    fn gcd(a: i128, b: i128) -> i128 {
        if b == 0 { a } else { gcd(b, a % b) }
    }

    /// Every row anyone can obtain for the month (the total and each shown cell of each
    /// breakdown) and every hidden cell, as sets of people (indices into `people`).
    fn rows_and_hidden(
        people: &[PersonMonth],
        baseline_layer: bool,
    ) -> (Vec<Vec<usize>>, Vec<Vec<usize>>) {
        let counted = |i: &usize| {
            people[*i].income > Decimal::ZERO && (!baseline_layer || people[*i].baseline.is_some())
        };
        let everyone: Vec<usize> = (0..people.len()).filter(counted).collect();
        let (mut rows, mut hidden) = (Vec::new(), Vec::new());
        let shown = |f: &Figures| !baseline_layer || f.baseline.is_some();
        for by in By::ALL {
            let r = month_report(month(), people, Y, by);
            if by == By::Department {
                if r.total.as_ref().is_some_and(shown) {
                    rows.push(everyone.clone());
                } else if !everyone.is_empty() {
                    hidden.push(everyone.clone());
                }
            }
            for c in &r.cells {
                let members: Vec<usize> = everyone
                    .iter()
                    .copied()
                    .filter(|&i| people[i].keys(by).contains(&c.key))
                    .collect();
                if c.figures.as_ref().is_some_and(shown) {
                    rows.push(members);
                } else if !members.is_empty() {
                    hidden.push(members);
                }
            }
        }
        (rows, hidden)
    }

    fn population() -> impl Strategy<Value = Vec<PersonMonth>> {
        let one = (
            0..3usize,
            0..3usize,
            0..3usize,
            proptest::collection::btree_set(0..3usize, 0..3),
            0..3_000_000i64,
            proptest::option::of(0..1_500_000i64),
        )
            .prop_map(|(d, m, c, g, income, baseline)| PersonMonth {
                department: Some(["05", "17", "19"][d].into()),
                // Municipalities nest in departments.
                municipality: Some(format!("{}{:03}", ["05", "17", "19"][d], m + 1)),
                cohort: ["2026-01", "2026-02", "2026-03"][c].into(),
                groups: g
                    .into_iter()
                    .map(|g| ["youth", "woman", "victim"][g].to_string())
                    .collect(),
                seconds: income / 10,
                income: Decimal::from(income),
                baseline: baseline.map(Decimal::from),
            });
        proptest::collection::vec(one, 0..45)
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(400))]

        /// The property: no combination of the report's cells, in any breakdown,
        /// recovers any individual or any hidden cell of fewer than five, checked with exact rational arithmetic
        /// independent of the report's own audit; and no shown figure describes fewer than
        /// five people.
        #[test]
        fn no_individual_is_recoverable(people in population()) {
            let n = people.len();
            for layer in [false, true] {
                let (rows, hidden) = rows_and_hidden(&people, layer);
                for row in &rows {
                    prop_assert!(row.len() >= MIN_PEOPLE);
                }
                for p in 0..n {
                    prop_assert!(
                        !recoverable_exactly(&rows, n, &[p]),
                        "person {p} recoverable (layer {layer}) from {rows:?}"
                    );
                }
                for h in hidden.iter().filter(|h| h.len() < MIN_PEOPLE) {
                    prop_assert!(
                        !recoverable_exactly(&rows, n, h),
                        "hidden cell {h:?} recoverable (layer {layer}) from {rows:?}"
                    );
                }
            }
        }

        /// Suppression only takes what it must: a population where every cell of every
        /// breakdown is large shows everything.
        #[test]
        fn large_cells_are_all_shown(k in 5usize..8) {
            let mut people = Vec::new();
            for (d, m) in [("05", "05001"), ("17", "17001")] {
                for g in ["youth", "victim"] {
                    for _ in 0..k {
                        people.push(person(d, m, "2026-01", &[g], 1_000_000, Some(400_000)));
                    }
                }
            }
            for by in By::ALL {
                let r = month_report(month(), &people, Y, by);
                prop_assert!(r.total.is_some());
                prop_assert!(r.cells.iter().all(|c| c.figures.as_ref().is_some_and(|f| f.baseline.is_some())));
            }
        }
    }
}
