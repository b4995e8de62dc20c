//! PII and health-data classification by column name and type (never by
//! contents), and the `pii_column` / `special_category_column` findings.

use super::{
    graph, is_framework, type_class, Action, Classification, Ctx, Dsl, Finding, FindingKind,
    TypeClass,
};
use crate::detect::Priority;
use crate::index::render;
use crate::schema::Table;

/// A category match: `("pii", "email")`, whether it is special-category data,
/// and whether the name is ambiguous (counted only on a person-linked table).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Match {
    pub category: &'static str,
    pub special: bool,
    pub ambiguous: bool,
}

const fn pii(category: &'static str, ambiguous: bool) -> Match {
    Match {
        category,
        special: false,
        ambiguous,
    }
}

const fn health(category: &'static str, ambiguous: bool) -> Match {
    Match {
        category,
        special: true,
        ambiguous,
    }
}

/// Last words of a column name that make it metadata about a value rather
/// than the value (`weight_unit`, `email_verified`, `phone_type`).
const META_WORDS: [&str; 24] = [
    "count",
    "type",
    "status",
    "verified",
    "confirmed",
    "enabled",
    "visible",
    "public",
    "private",
    "format",
    "kind",
    "unit",
    "units",
    "source",
    "provider",
    "version",
    "locale",
    "digest",
    "sent",
    "changed",
    "required",
    "consent",
    "preference",
    "preferences",
];

/// The metadata words that still leave a health column health data
/// (`blood_type`, `injury_status` are; `weight_unit` is not).
const HEALTH_META_WORDS: [&str; 16] = [
    "unit",
    "units",
    "source",
    "provider",
    "format",
    "version",
    "locale",
    "enabled",
    "visible",
    "public",
    "private",
    "preference",
    "preferences",
    "consent",
    "sent",
    "required",
];

/// Words of a table name that make a `weight` column the load of an
/// exercise, a product or a portion rather than a body weight.
const LOAD_TABLE_WORDS: [&str; 20] = [
    "set",
    "sets",
    "exercise",
    "exercises",
    "lift",
    "lifts",
    "equipment",
    "equipments",
    "plate",
    "plates",
    "product",
    "products",
    "item",
    "items",
    "shipment",
    "shipments",
    "package",
    "packages",
    "ingredient",
    "ingredients",
];

/// Words of a column name with the same effect (`weight_lifted`, `max_load`).
const LOAD_COLUMN_WORDS: [&str; 8] = [
    "lifted", "used", "load", "plate", "plates", "dumbbell", "barbell", "package",
];

/// Words of a table or column name that make `height` / `width` the size of
/// an image or a box rather than a body height.
const MEDIA_WORDS: [&str; 24] = [
    "image",
    "images",
    "photo",
    "photos",
    "picture",
    "pictures",
    "media",
    "video",
    "videos",
    "thumbnail",
    "thumbnails",
    "attachment",
    "attachments",
    "banner",
    "banners",
    "avatar",
    "avatars",
    "file",
    "files",
    "document",
    "documents",
    "box",
    "jump",
    "screen",
];

/// Tables whose rows are portions or foods: no `weight` of a person.
const FOOD_TABLE_WORDS: [&str; 6] = ["food", "foods", "meal", "meals", "recipe", "recipes"];

/// The category of a column by its (plaintext) name, before the type and
/// person-link checks: the rules are the table of the
/// [module docs](super#classification).
pub(crate) fn categorize(name: &str, table: &str, people_table: bool) -> Option<Match> {
    let name = name.to_ascii_lowercase();
    let words: Vec<&str> = name.split('_').filter(|w| !w.is_empty()).collect();
    let has = |w: &str| words.contains(&w);
    let has_prefix = |p: &str| words.iter().any(|w| w.starts_with(p));
    let table_words: Vec<String> = render::bare(table)
        .to_ascii_lowercase()
        .split('_')
        .map(str::to_owned)
        .collect();
    let table_has = |list: &[&str]| table_words.iter().any(|w| list.contains(&w.as_str()));
    let last = words.last().copied().unwrap_or_default();

    let government = matches!(
        name.as_str(),
        "ssn"
            | "social_security_number"
            | "national_insurance_number"
            | "tax_id"
            | "tax_number"
            | "id_card_number"
            | "identity_number"
    ) || has("passport")
        || name.starts_with("national_id")
        || name.starts_with("drivers_license")
        || name.starts_with("driver_license");
    if government {
        return Some(pii("pii:government_id", false));
    }
    let payment = has("iban")
        || has("last4")
        || has("cvv")
        || has("cvc")
        || name.contains("card_number")
        || name.contains("credit_card")
        || name.contains("account_number")
        || name.contains("routing_number")
        || name.contains("bank_account");
    if payment && !name.ends_with("_id") {
        return Some(pii("pii:payment", false));
    }
    if name.ends_with("_id") || name == "id" {
        return None;
    }
    if !META_WORDS.contains(&last) {
        if let Some(found) = personal(&name, &has, people_table) {
            return Some(found);
        }
    }
    if HEALTH_META_WORDS.contains(&last) {
        return None;
    }
    // Health: unambiguous names first.
    if has("bmi") {
        return Some(health("health:bmi", false));
    }
    if name.starts_with("body_fat") || name.starts_with("bodyfat") || name.contains("_body_fat") {
        return Some(health("health:body_fat", false));
    }
    if has_prefix("medical")
        || has_prefix("diagnos")
        || has_prefix("symptom")
        || has("disability")
        || has("disabilities")
    {
        return Some(health("health:medical", false));
    }
    if [
        "medication",
        "medications",
        "medicine",
        "medicines",
        "prescription",
        "prescriptions",
    ]
    .iter()
    .any(|w| has(w))
    {
        return Some(health("health:medication", false));
    }
    if has_prefix("pregnan") {
        return Some(health("health:pregnancy", false));
    }
    if has("blood") || has("glucose") || has("cholesterol") || has("spo2") {
        return Some(health("health:blood", false));
    }
    if has_prefix("menstru") {
        return Some(health("health:menstrual", false));
    }
    // Ambiguous health names.
    if has("injury") || has("injuries") || has("injured") {
        return Some(health("health:injury", true));
    }
    if has("allergy") || has("allergies") || has("allergic") || has("allergens") {
        return Some(health("health:allergy", true));
    }
    if has("condition") || has("conditions") {
        return Some(health("health:condition", true));
    }
    if has("heart") || has("bpm") || has("hr") || has("hrv") {
        return Some(health("health:heart_rate", true));
    }
    if has("calories") || has("calorie") || has("kcal") {
        return Some(health("health:calories", true));
    }
    if has("sleep") {
        return Some(health("health:sleep", true));
    }
    if has("dietary") || (has("diet") && (has("restriction") || has("restrictions"))) {
        return Some(health("health:diet", true));
    }
    if has("weight")
        && !table_has(&LOAD_TABLE_WORDS)
        && !table_has(&FOOD_TABLE_WORDS)
        && !LOAD_COLUMN_WORDS.iter().any(|w| has(w))
    {
        return Some(health("health:weight", true));
    }
    if has("height") && !table_has(&MEDIA_WORDS) && !MEDIA_WORDS.iter().any(|w| has(w)) {
        return Some(health("health:height", true));
    }
    None
}

/// The PII rules of [`categorize`].
fn personal(name: &str, has: &dyn Fn(&str) -> bool, people_table: bool) -> Option<Match> {
    if has("email") {
        return Some(pii("pii:email", false));
    }
    if has("ip") {
        return Some(pii("pii:ip_address", false));
    }
    if has("phone")
        || has("telephone")
        || has("msisdn")
        || matches!(name, "mobile" | "mobile_number" | "fax" | "fax_number")
    {
        return Some(pii("pii:phone", false));
    }
    if matches!(name, "dob" | "birthday" | "birthdate") || has("birth") || has("birthday") {
        return Some(pii("pii:birth_date", false));
    }
    if has("token")
        && ["device", "push", "fcm", "apns", "gcm", "expo"]
            .iter()
            .any(|w| has(w))
    {
        return Some(pii("pii:device_token", false));
    }
    if matches!(
        name,
        "first_name"
            | "last_name"
            | "full_name"
            | "middle_name"
            | "given_name"
            | "family_name"
            | "surname"
            | "maiden_name"
            | "firstname"
            | "lastname"
            | "fullname"
    ) {
        return Some(pii("pii:name", false));
    }
    if people_table && matches!(name, "name" | "display_name" | "nickname") {
        return Some(pii("pii:name", false));
    }
    let address = (has("address") && !has("mac") && !has("wallet"))
        || has("street")
        || has("city")
        || has("zip")
        || has("zipcode")
        || has("postcode")
        || has("postal")
        || matches!(name, "address1" | "address2");
    if address {
        return Some(pii("pii:address", true));
    }
    let geo = [
        "lat",
        "latitude",
        "lng",
        "lon",
        "longitude",
        "location",
        "coordinates",
        "coords",
        "latlng",
        "lonlat",
    ]
    .iter()
    .any(|w| has(w))
        || name == "long"
        || name.starts_with("geo");
    if geo {
        return Some(pii("pii:geolocation", true));
    }
    let free_text = matches!(
        name,
        "bio" | "biography" | "about" | "about_me" | "note" | "notes" | "message" | "body"
    ) || name.ends_with("_notes")
        || name.ends_with("_note")
        || name.ends_with("_bio");
    if free_text {
        return Some(pii("pii:free_text", true));
    }
    None
}

/// The health topic of a table whose every column is health data, when it is
/// one (the list is in the [module docs](super#classification)).
pub(crate) fn health_table(table: &str) -> Option<&'static str> {
    let bare = render::bare(table).to_ascii_lowercase();
    let last = bare.rsplit('_').next().unwrap_or_default();
    let sleep_or_weight = |prefix: &str| {
        ["logs", "entries", "records"]
            .iter()
            .any(|s| bare == format!("{prefix}_{s}"))
    };
    if bare.contains("body_measurement") || last == "measurements" {
        Some("health:measurement")
    } else if last == "injuries" {
        Some("health:injury")
    } else if last == "medications" || last == "prescriptions" {
        Some("health:medication")
    } else if last == "allergies" {
        Some("health:allergy")
    } else if last == "pregnancies" {
        Some("health:pregnancy")
    } else if last == "vitals" {
        Some("health:vitals")
    } else if bare.starts_with("medical_") || last == "diagnoses" || last == "symptoms" {
        Some("health:medical")
    } else if bare == "weigh_ins" || sleep_or_weight("weight") {
        Some("health:weight")
    } else if sleep_or_weight("sleep") {
        Some("health:sleep")
    } else if bare.starts_with("health_") {
        Some("health:record")
    } else {
        None
    }
}

/// How a column is stored: its plaintext name and whether it is encrypted.
struct Storage {
    plain: String,
    encrypted: bool,
}

fn storage(ctx: &Ctx<'_>, table: &Table, column: &str) -> Option<Storage> {
    let declared = ctx
        .input
        .encrypted_columns
        .iter()
        .any(|e| e.table == table.name && e.column == column);
    let lower = column.to_ascii_lowercase();
    if let Some(plain) = lower.strip_suffix("_ciphertext").filter(|p| !p.is_empty()) {
        return Some(Storage {
            plain: plain.to_owned(),
            encrypted: true,
        });
    }
    if let Some(plain) = lower.strip_suffix("_bidx").filter(|p| !p.is_empty()) {
        return Some(Storage {
            plain: plain.to_owned(),
            encrypted: true,
        });
    }
    if let Some(plain) = lower.strip_prefix("encrypted_").filter(|p| !p.is_empty()) {
        // attr_encrypted's initialization vectors and salts hold no data.
        if plain.ends_with("_iv") || plain.ends_with("_salt") {
            return None;
        }
        return Some(Storage {
            plain: plain.to_owned(),
            encrypted: true,
        });
    }
    Some(Storage {
        plain: lower,
        encrypted: declared,
    })
}

/// Columns of a health table that are keys or bookkeeping, not health data.
fn bookkeeping(table: &Table, column: &str) -> bool {
    table.primary_key.iter().any(|k| k == column)
        || column == "id"
        || column.ends_with("_id")
        || column.ends_with("_type")
        || matches!(
            column,
            "lock_version" | "created_at" | "updated_at" | "deleted_at" | "discarded_at"
        )
}

/// Every classified column, by table and column.
pub(crate) fn classify(ctx: &Ctx<'_>) -> Vec<Classification> {
    let mut out = Vec::new();
    for (index, table) in ctx.schema.tables.iter().enumerate() {
        if is_framework(&table.name) {
            continue;
        }
        let linked = ctx.is_linked(index);
        let people = graph::is_people_table(&table.name) || Some(index) == ctx.subject;
        let topic = health_table(&table.name).filter(|_| linked);
        for column in &table.columns {
            let Some(storage) = storage(ctx, table, &column.name) else {
                continue;
            };
            let class = type_class(&column.sql_type);
            let matched = categorize(&storage.plain, &table.name, people)
                .filter(|m| linked || !m.ambiguous)
                .filter(|m| {
                    storage.encrypted
                        || match class {
                            TypeClass::Bool => m.special,
                            TypeClass::Timestamp | TypeClass::Date => {
                                m.special || m.category == "pii:birth_date"
                            }
                            _ => true,
                        }
                });
            let category = match (matched, topic) {
                (Some(m), _) if m.special => Some((m.category, true)),
                // Free text in a health table is about the person's health.
                (Some(m), Some(topic)) if m.category == "pii:free_text" => Some((topic, true)),
                (Some(m), _) => Some((m.category, false)),
                (None, Some(topic)) if !bookkeeping(table, &column.name) => Some((topic, true)),
                _ => None,
            };
            // IP address columns are recognized by type too.
            let category = category.or_else(|| {
                (class == TypeClass::Inet && !column.name.ends_with("_id"))
                    .then_some(("pii:ip_address", false))
            });
            let category = category.or_else(|| {
                (class == TypeClass::Geo && linked).then_some(("pii:geolocation", false))
            });
            let Some((category, special)) = category else {
                continue;
            };
            out.push(Classification {
                table: table.name.clone(),
                column: column.name.clone(),
                category: category.to_owned(),
                encrypted: storage.encrypted,
                special_category: special,
            });
        }
    }
    out.sort_by(|a, b| (&a.table, &a.column).cmp(&(&b.table, &b.column)));
    out
}

/// PII subcategories that are sensitive in themselves: medium priority when
/// stored in clear text (the others low).
const SENSITIVE_PII: [&str; 4] = [
    "pii:government_id",
    "pii:payment",
    "pii:geolocation",
    "pii:free_text",
];

/// One finding per classified column, except blind indexes (their
/// ciphertext column carries it).
pub(crate) fn findings(ctx: &Ctx<'_>, classification: &[Classification], out: &mut Vec<Finding>) {
    for c in classification {
        let Some(table) = ctx.position(&c.table).and_then(|i| ctx.table(i)) else {
            continue;
        };
        if c.column.to_ascii_lowercase().ends_with("_bidx") {
            continue;
        }
        let kind = if c.special_category {
            FindingKind::SpecialCategoryColumn
        } else {
            FindingKind::PiiColumn
        };
        let what = if c.special_category {
            "health data, a special category of personal data under GDPR Art. 9: processing \
             it needs explicit consent (Art. 9(2)(a)), access to it should be restricted and \
             logged, and it must be erased with the account"
        } else {
            "personal data under GDPR: it must be covered by the retention policies and erased \
             with the account"
        };
        let (suggestion, reason, priority) = if c.encrypted {
            (
                format!(
                    "None for the column: keep it encrypted, and keep {} covered by erasure \
                     and retention (ciphertext is still personal data).",
                    c.table
                ),
                format!(
                    "{}.{} ({}) is {what}. It is encrypted by the application, so a database \
                     dump or a read replica does not expose it.",
                    c.table, c.column, c.category
                ),
                Priority::Low,
            )
        } else {
            let (suggestion, advice) = advice(table, c);
            let priority = if c.special_category {
                Priority::High
            } else if SENSITIVE_PII.contains(&c.category.as_str()) {
                Priority::Medium
            } else {
                Priority::Low
            };
            (
                suggestion,
                format!(
                    "{}.{} ({}) is {what}. It is stored in clear text: anyone with a database \
                     dump, a backup or read access to the replica can read it. {advice}",
                    c.table, c.column, c.category
                ),
                priority,
            )
        };
        out.push(Finding {
            kind,
            table: c.table.clone(),
            column: Some(c.column.clone()),
            path: None,
            category: Some(c.category.clone()),
            suggestion,
            reason,
            priority,
        });
    }
}

/// The suggestion for a clear-text column and a sentence of advice.
fn advice(table: &Table, c: &Classification) -> (String, String) {
    let symbol = render::ruby_symbol(&c.column);
    let model = graph::model_name(&table.name, "");
    let numeric = table
        .column(&c.column)
        .map(|col| type_class(&col.sql_type))
        .is_some_and(|t| {
            matches!(
                t,
                TypeClass::Integer
                    | TypeClass::Numeric
                    | TypeClass::Bool
                    | TypeClass::Date
                    | TypeClass::Timestamp
            )
        });
    let encrypt_note = format!(
        "Encrypt it in {model}: Active Record Encryption (encrypts, Rails 7+) or lockbox \
         (has_encrypted, Rails 6.1){}.",
        if numeric {
            "; the column becomes a text column holding the ciphertext, and filtering or \
             sorting by it moves into Ruby"
        } else {
            ""
        }
    );
    match c.category.as_str() {
        "pii:email" | "pii:phone" => (
            format!("encrypts {symbol}, deterministic: true"),
            format!(
                "{encrypt_note} Deterministic encryption keeps find_by and unique indexes \
                 working."
            ),
        ),
        "pii:ip_address" => {
            let prefix = c.column.strip_suffix("_ip").unwrap_or_default();
            let stamp = [format!("{prefix}_at"), "created_at".to_owned()]
                .into_iter()
                .find(|s| (!prefix.is_empty() && table.column(s).is_some()) || s == "created_at")
                .unwrap_or_else(|| "created_at".to_owned());
            let columns = vec![c.column.clone()];
            let line = Dsl {
                table: &table.name,
                keep: Some("90.days".to_owned()),
                timestamp_column: Some(&stamp),
                condition: None,
                action: Action::Anonymize,
                columns: &columns,
                legal_basis: None,
            }
            .line();
            (
                line,
                "An IP address is needed for security for a short time only: clear it after \
                 90 days (or store it truncated), unless a documented purpose needs it longer."
                    .to_owned(),
            )
        }
        "pii:payment" => (
            format!("encrypts {symbol}"),
            format!(
                "{encrypt_note} Store only what the payment provider returns (a token, the \
                 last four digits); never a full card number or its CVC."
            ),
        ),
        "pii:geolocation" => (
            format!("encrypts {symbol}"),
            format!(
                "{encrypt_note} Or store it rounded (about 1 km: 2 decimal places) when the \
                 feature does not need the exact position."
            ),
        ),
        "pii:device_token" => (
            format!("encrypts {symbol}"),
            format!(
                "{encrypt_note} Delete the token when the user signs out or the push service \
                 reports it invalid."
            ),
        ),
        _ => (format!("encrypts {symbol}"), encrypt_note),
    }
}
