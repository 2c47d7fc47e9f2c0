//! How long the impact report's suppression takes for one month of N people spread over 33
//! departments, 264 municipalities, 12 cohorts and overlapping groups (a seeded random
//! population): `cargo run --release -p vereda-contracts --example impact_scale -- 3000`.

use rust_decimal::Decimal;
use vereda_contracts::impact::*;
use vereda_contracts::statements::Month;
fn main() {
    let n: usize = std::env::args().nth(1).map_or(3000, |a| a.parse().unwrap());
    let mut seed = 42u64;
    let mut rnd = |m: u64| {
        seed = seed
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        (seed >> 33) % m
    };
    let people: Vec<PersonMonth> = (0..n)
        .map(|_| {
            let d = rnd(33);
            let m = rnd(8);
            let groups = (0..3)
                .filter(|_| rnd(3) == 0)
                .map(|g| format!("g{g}"))
                .collect();
            PersonMonth {
                department: Some(format!("{d:02}")),
                municipality: Some(format!("{d:02}{m:03}")),
                cohort: format!("2026-{:02}", rnd(12) + 1),
                groups,
                seconds: 3600,
                income: Decimal::from(rnd(3_000_000) + 1),
                baseline: (rnd(2) == 0).then(|| Decimal::from(rnd(1_000_000))),
            }
        })
        .collect();
    let y = Yardsticks {
        smmlv: Decimal::from(1_750_905),
        rural_reference: Decimal::from(800_000),
    };
    let t = std::time::Instant::now();
    let r = month_report(Month::parse("2026-10").unwrap(), &people, y, By::Department);
    let shown = r.cells.iter().filter(|c| c.figures.is_some()).count();
    println!(
        "{n} people: {:?}, {} of {} department cells shown, total {:?}",
        t.elapsed(),
        shown,
        r.cells.len(),
        r.total.map(|t| t.people)
    );
}
