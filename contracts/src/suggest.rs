//! Names as people type them: compared without case, accents or punctuation (`CHAPARRAL`,
//! `chaparral` and `Chaparrál` are one name), and a typo answered with the nearest names of a
//! list (`Chaparal` → `Chaparral`, `labeling` → `labelling`).

use unicode_normalization::UnicodeNormalization;

/// `s` folded for comparison: lower case, accents and the tilde of `ñ` dropped, every run of
/// punctuation or spaces one space, trimmed. `Bogotá, D.C.` → `bogota d c`.
pub fn fold(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut space = false;
    // Lower case first: lower-casing can itself add a combining mark (`İ` → `i̇`).
    for c in s.to_lowercase().nfd() {
        if unicode_normalization::char::is_combining_mark(c) {
            continue;
        }
        if c.is_alphanumeric() {
            if space && !out.is_empty() {
                out.push(' ');
            }
            space = false;
            out.push(c);
        } else {
            space = true;
        }
    }
    out
}

/// How far a typo may be from a name to be suggested: one edit in a short name, a few more
/// in a long one.
fn reach(len: usize) -> usize {
    (len / 4).clamp(1, 4)
}

/// The names of `candidates` nearest to `typed` (folded, by edit distance), nearest first, at
/// most `limit`, and only those within a few edits: an empty list says "nothing like it".
pub fn nearest<'a, I>(typed: &str, candidates: I, limit: usize) -> Vec<&'a str>
where
    I: IntoIterator<Item = &'a str>,
{
    let typed = fold(typed);
    let most = reach(typed.chars().count());
    let mut scored: Vec<(usize, &'a str)> = candidates
        .into_iter()
        .filter_map(|c| {
            let d = strsim::levenshtein(&typed, &fold(c));
            (d <= most).then_some((d, c))
        })
        .collect();
    scored.sort();
    scored.dedup_by(|a, b| a.1 == b.1);
    scored.into_iter().take(limit).map(|(_, c)| c).collect()
}

/// `«a»`, `«a» o «b»`, `«a», «b» o «c»`: names offered in a Spanish sentence.
pub fn either_es(names: &[&str]) -> String {
    let quoted: Vec<String> = names.iter().map(|n| format!("«{n}»")).collect();
    match quoted.split_last() {
        None => String::new(),
        Some((last, [])) => last.clone(),
        Some((last, rest)) => format!("{} o {last}", rest.join(", ")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn folding_drops_case_accents_and_punctuation() {
        assert_eq!(fold("Bogotá, D.C."), "bogota d c");
        assert_eq!(fold("  NARIÑO "), "narino");
        assert_eq!(fold("Mirití - Paraná"), "miriti parana");
        assert_eq!(fold("Güicán de la Sierra"), "guican de la sierra");
        assert_eq!(fold("data-entry"), "data entry");
        assert_eq!(fold(""), "");
    }

    #[test]
    fn a_typo_finds_its_name() {
        let towns = ["Chaparral", "Coyaima", "Ibagué", "Ataco", "Chaparro"];
        assert_eq!(nearest("Chaparal", towns, 3), ["Chaparral", "Chaparro"]);
        assert_eq!(nearest("ibague", towns, 3), ["Ibagué"]);
        assert!(nearest("Medellín", towns, 3).is_empty());
        assert_eq!(
            nearest("labeling", ["labelling", "data-entry"], 3),
            ["labelling"]
        );
    }

    #[test]
    fn names_are_offered_in_spanish() {
        assert_eq!(either_es(&[]), "");
        assert_eq!(either_es(&["a"]), "«a»");
        assert_eq!(either_es(&["a", "b", "c"]), "«a», «b» o «c»");
    }

    proptest! {
        /// Folding is idempotent and a folded name is always its own nearest.
        #[test]
        fn folding_is_stable(s in "\\PC{0,30}") {
            let once = fold(&s);
            prop_assert_eq!(fold(&once), once.clone());
            if !once.is_empty() {
                let me = [s.as_str()];
                prop_assert_eq!(nearest(&s, me, 1), vec![s.as_str()]);
            }
        }
    }
}
