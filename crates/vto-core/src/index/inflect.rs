//! English plurals the way ActiveSupport's default inflections make them, for
//! Rails' table-name convention (`category_id` -> `categories`).

/// Words ActiveSupport leaves alone.
const UNCOUNTABLE: [&str; 10] = [
    "equipment",
    "information",
    "rice",
    "money",
    "species",
    "series",
    "fish",
    "sheep",
    "jeans",
    "police",
];

/// ActiveSupport's irregular words (singular, plural).
const IRREGULAR: [(&str, &str); 8] = [
    ("person", "people"),
    ("man", "men"),
    ("woman", "women"),
    ("child", "children"),
    ("sex", "sexes"),
    ("move", "moves"),
    ("zombie", "zombies"),
    ("ox", "oxen"),
];

/// The plural of a snake_case name: only its last word is inflected, as
/// Rails does for `completed_workout` -> `completed_workouts`.
pub(crate) fn pluralize(name: &str) -> String {
    let split = name.rfind('_').map_or(0, |i| i + 1);
    let (head, last) = (
        name.get(..split).unwrap_or_default(),
        name.get(split..).unwrap_or_default(),
    );
    format!("{head}{}", pluralize_word(last))
}

fn pluralize_word(word: &str) -> String {
    let lower = word.to_ascii_lowercase();
    if lower.is_empty() || UNCOUNTABLE.contains(&lower.as_str()) {
        return word.to_owned();
    }
    for (singular, plural) in IRREGULAR {
        if lower == singular {
            return plural.to_owned();
        }
        if lower == plural {
            return word.to_owned();
        }
    }
    let stem = |n: usize| word.get(..word.len().saturating_sub(n)).unwrap_or_default();
    let ends = |s: &str| lower.ends_with(s);
    let before = |n: usize| {
        lower
            .as_bytes()
            .get(lower.len().wrapping_sub(n + 1))
            .copied()
    };
    // ActiveSupport's rules, most recently defined (first checked) first.
    if ends("quiz") {
        return format!("{word}zes");
    }
    if matches!(lower.as_str(), "mice" | "lice") {
        return word.to_owned();
    }
    if matches!(lower.as_str(), "mouse" | "louse") {
        return format!("{}ice", stem(4));
    }
    if ["matrix", "vertex", "index", "matrex", "vertix", "indix"]
        .iter()
        .any(|s| ends(s))
    {
        return format!("{}ices", stem(2));
    }
    if ends("x") || ends("ch") || ends("ss") || ends("sh") {
        return format!("{word}es");
    }
    if ends("y") && (ends("quy") || before(1).is_some_and(|c| !b"aeiouy".contains(&c))) {
        return format!("{}ies", stem(1));
    }
    if ends("hive") {
        return format!("{word}s");
    }
    if ends("fe") && before(2).is_some_and(|c| c != b'f') {
        return format!("{}ves", stem(2));
    }
    if ends("f") && before(1).is_some_and(|c| c == b'l' || c == b'r') {
        return format!("{}ves", stem(1));
    }
    if ends("sis") {
        return format!("{}ses", stem(3));
    }
    if (ends("ta") || ends("ia")) && word.len() >= 2 {
        return word.to_owned();
    }
    if ends("tum") || ends("ium") {
        return format!("{}a", stem(2));
    }
    if ends("buffalo") || ends("tomato") {
        return format!("{word}es");
    }
    if ends("bus") {
        return format!("{word}es");
    }
    if ends("alias") || ends("status") {
        return format!("{word}es");
    }
    if ends("octopi") || ends("viri") {
        return word.to_owned();
    }
    if ends("octopus") || ends("virus") {
        return format!("{}i", stem(2));
    }
    if matches!(lower.as_str(), "axis" | "testis") {
        return format!("{}es", stem(2));
    }
    if ends("s") {
        return word.to_owned();
    }
    format!("{word}s")
}

#[cfg(test)]
mod tests {
    use super::pluralize;

    #[test]
    fn active_support_plurals() {
        let cases = [
            ("user", "users"),
            ("category", "categories"),
            ("box", "boxes"),
            ("person", "people"),
            ("child", "children"),
            ("completed_workout", "completed_workouts"),
            ("sales_person", "sales_people"),
            ("status", "statuses"),
            ("address", "addresses"),
            ("day", "days"),
            ("quiz", "quizzes"),
            ("wolf", "wolves"),
            ("knife", "knives"),
            ("analysis", "analyses"),
            ("medium", "media"),
            ("mouse", "mice"),
            ("matrix", "matrices"),
            ("equipment", "equipment"),
            ("bus", "buses"),
            ("octopus", "octopi"),
            ("ox", "oxen"),
            ("users", "users"),
            ("", ""),
        ];
        for (singular, plural) in cases {
            assert_eq!(pluralize(singular), plural, "{singular}");
        }
    }
}
