//! `cargo bench --bench index`: the index advisor over a generated schema of
//! 500 tables (8 columns, 3 to 6 indexes and 2 foreign keys each: some
//! covered, some duplicate or prefix indexes, GIN and partial ones, some never
//! scanned), and the same schema read back from DDL; then the same schema
//! with a recorded workload of 10,000 distinct Rails-like query shapes (20 per
//! table: equality on `*_id` with `created_at` ranges, ORDER BY ... LIMIT, IN
//! lists, joins, EXISTS, UPDATE / DELETE filters, some N+1s), parsed and
//! turned into `workload_index` suggestions (and the write/read traffic of
//! `over_indexed_table`, also timed with a threshold low enough to flag
//! tables). Single-threaded.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // a bench fails loudly

use std::hint::black_box;
use std::time::{Duration, Instant};

use vto_core::index::{
    advise, advise_json, advise_json_report, advise_report, Options, SuggestionKind, WorkloadQuery,
};
use vto_core::schema::{from_ddl, Column, ForeignKey, Index, IndexKey, OnDelete, Schema, Table};
use vto_core::Dialect;

const TABLES: usize = 500;
/// Query shapes per table in the workload (500 x 20 = 10,000).
const SHAPES_PER_TABLE: usize = 20;

/// A small deterministic generator (xorshift64).
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

fn table_name(i: usize) -> String {
    format!("table_{i:03}s")
}

fn schema() -> Schema {
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    let mut schema = Schema::new(Dialect::Postgres);
    for i in 0..TABLES {
        let mut t = Table::new(table_name(i));
        t.rows = Some(rng.below(2_000_000));
        t.size_bytes = t.rows.map(|r| r * 120);
        t.primary_key = vec!["id".to_owned()];
        // Two foreign keys to earlier tables, named by convention.
        let parents = [(i + TABLES - 1) % TABLES, (i + TABLES / 2) % TABLES];
        let fk_columns: Vec<String> = parents.iter().map(|p| format!("table_{p:03}_id")).collect();
        t.columns.push(Column::new("id", "bigint"));
        for c in &fk_columns {
            t.columns.push(Column::new(c.clone(), "bigint"));
        }
        for c in ["name", "status", "created_at", "updated_at", "payload"] {
            t.columns.push(Column::new(
                c,
                if c == "payload" { "jsonb" } else { "text" },
            ));
        }
        for (c, p) in fk_columns.iter().zip(parents) {
            t.foreign_keys.push(ForeignKey {
                name: Some(format!("fk_{i}_{p}")),
                columns: vec![c.clone()],
                to_table: table_name(p),
                to_columns: vec!["id".to_owned()],
                on_delete: [None, Some(OnDelete::Cascade), Some(OnDelete::SetNull)]
                    .get(rng.below(3) as usize)
                    .copied()
                    .flatten(),
            });
        }
        let mut pkey = Index::on_columns(format!("{}_pkey", t.name), &["id"]);
        pkey.unique = true;
        pkey.primary = true;
        t.indexes.push(pkey);
        let extra = 2 + rng.below(4) as usize; // 3 to 6 indexes with the primary key
        for k in 0..extra {
            let mut index = match rng.below(7) {
                0 => Index::on_columns(format!("ix_{i}_{k}_fk"), &[fk_columns[0].as_str()]),
                1 => Index::on_columns(
                    format!("ix_{i}_{k}_fk_created"),
                    &[fk_columns[0].as_str(), "created_at"],
                ),
                2 => Index::on_columns(format!("ix_{i}_{k}_status"), &["status"]),
                3 => Index::on_columns(
                    format!("ix_{i}_{k}_status_created"),
                    &["status", "created_at"],
                ),
                4 => {
                    let mut gin = Index::on_columns(format!("ix_{i}_{k}_name_trgm"), &["name"]);
                    gin.method = "gin".to_owned();
                    gin.keys[0].opclass = Some("gin_trgm_ops".to_owned());
                    gin
                }
                5 => {
                    let mut partial =
                        Index::on_columns(format!("ix_{i}_{k}_partial"), &[fk_columns[1].as_str()]);
                    partial.predicate = Some("(updated_at IS NULL)".to_owned());
                    partial
                }
                _ => {
                    let mut expr = Index::on_columns(format!("ix_{i}_{k}_lower"), &[] as &[&str]);
                    expr.keys.push(IndexKey::expression("lower(name)"));
                    expr.unique = rng.below(2) == 0;
                    expr
                }
            };
            index.scans = Some(rng.below(3));
            index.size_bytes = Some(rng.below(300 * 1024 * 1024));
            t.indexes.push(index);
        }
        schema.tables.push(t);
    }
    // pg_stats estimates for most tables (a separate generator keeps the
    // schema above identical to earlier runs of this bench).
    let mut stats = Rng(0x2545_f491_4f6c_dd1d);
    for t in &mut schema.tables {
        let rows = t.rows.unwrap_or(0);
        if stats.below(5) == 0 {
            continue; // never analyzed
        }
        for c in &mut t.columns {
            c.distinct = match c.name.as_str() {
                "id" => Some(rows),
                "status" => Some(2 + stats.below(6)),
                "payload" => None,
                name if name.ends_with("_id") => Some(1 + rows / (1 + stats.below(200))),
                _ => Some(1 + rows / (1 + stats.below(3))),
            };
        }
    }
    schema
}

/// 20 Rails-like statements over table `i` (normalized: binds as `?`).
fn shapes(schema: &Schema, i: usize) -> Vec<String> {
    let t = &schema.tables[i];
    let n = &t.name;
    let f0 = &t.columns[1].name;
    let f1 = &t.columns[2].name;
    let p = &t.foreign_keys[0].to_table;
    let star = format!(r#"SELECT "{n}".* FROM "{n}""#);
    vec![
        format!(r#"{star} WHERE "{n}"."{f0}" = ? ORDER BY "{n}"."created_at" DESC LIMIT ?"#),
        format!(
            r#"{star} WHERE "{n}"."{f0}" = ? AND "{n}"."created_at" >= ? ORDER BY "{n}"."created_at" DESC LIMIT ?"#
        ),
        format!(r#"{star} WHERE "{n}"."{f1}" IN (?)"#),
        format!(r#"{star} WHERE "{n}"."{f1}" IN (?) ORDER BY "{n}"."created_at" DESC LIMIT ?"#),
        format!(
            r#"{star} WHERE "{n}"."status" = ? AND "{n}"."{f0}" = ? ORDER BY "{n}"."id" ASC LIMIT ?"#
        ),
        format!(r#"SELECT COUNT(*) FROM "{n}" WHERE "{n}"."{f0}" = ? AND "{n}"."status" = ?"#),
        format!(
            r#"{star} INNER JOIN "{p}" ON "{p}"."id" = "{n}"."{f0}" WHERE "{p}"."status" = ? AND "{n}"."created_at" >= ?"#
        ),
        format!(r#"{star} WHERE "{n}"."id" = ? LIMIT ?"#),
        format!(r#"{star} WHERE "{n}"."name" LIKE ?"#),
        format!(r#"{star} WHERE "{n}"."updated_at" BETWEEN ? AND ?"#),
        format!(r#"UPDATE "{n}" SET "status" = ?, "updated_at" = ? WHERE "{n}"."{f1}" = ?"#),
        format!(r#"DELETE FROM "{n}" WHERE "{n}"."created_at" < ?"#),
        format!(r#"{star} WHERE LOWER("{n}"."name") = ? LIMIT ?"#),
        format!(r#"{star} WHERE "{n}"."{f0}" = ? AND "{n}"."updated_at" IS NULL"#),
        format!(r#"SELECT "{n}"."id" FROM "{n}" WHERE "{n}"."{f0}" = ? AND "{n}"."{f1}" = ?"#),
        format!(r#"{star} ORDER BY "{n}"."created_at" DESC LIMIT ? OFFSET ?"#),
        format!(
            r#"{star} WHERE "{n}"."{f1}" = ? AND "{n}"."status" IN (?) ORDER BY "{n}"."updated_at" DESC, "{n}"."id" ASC LIMIT ?"#
        ),
        format!(
            r#"SELECT "{p}".* FROM "{p}" WHERE EXISTS (SELECT ? FROM "{n}" WHERE "{n}"."{f0}" = "{p}"."id" AND "{n}"."status" = ?)"#
        ),
        format!(r#"SELECT DISTINCT "{n}"."{f1}" FROM "{n}" WHERE "{n}"."created_at" > ?"#),
        format!(
            r#"SELECT "{n}"."status", COUNT(*) FROM "{n}" WHERE "{n}"."{f0}" = ? GROUP BY "{n}"."status""#
        ),
    ]
}

/// 10,000 distinct query shapes with counts, times and a few N+1s.
fn workload(schema: &Schema) -> Vec<WorkloadQuery> {
    let mut rng = Rng(0x0bad_5eed_dead_beef);
    let mut out = Vec::with_capacity(TABLES * SHAPES_PER_TABLE);
    for i in 0..TABLES {
        for (k, sql) in shapes(schema, i).into_iter().enumerate() {
            let count = 1 + rng.below(5000);
            let n_plus_one = rng.below(20) == 0;
            out.push(WorkloadQuery {
                fingerprint: String::new(), // computed
                sql,
                count,
                total_ms: (count * (1 + rng.below(40))) as f64 / 10.0,
                locations: vec![format!("app/models/model_{i}.rb:{}", 10 + k)],
                sources: vec![format!("Api::Table{i}Controller#index")],
                n_plus_one,
            });
        }
    }
    out
}

/// The same schema as PostgreSQL DDL.
fn ddl(schema: &Schema) -> String {
    let mut out = String::new();
    for t in &schema.tables {
        let columns: Vec<String> = t
            .columns
            .iter()
            .map(|c| format!("    {} {}", c.name, c.sql_type))
            .collect();
        out.push_str(&format!(
            "CREATE TABLE public.{} (\n{}\n);\n\n",
            t.name,
            columns.join(",\n")
        ));
        out.push_str(&format!(
            "ALTER TABLE ONLY public.{}\n    ADD CONSTRAINT {}_pkey PRIMARY KEY (id);\n\n",
            t.name, t.name
        ));
        for i in t.indexes.iter().filter(|i| !i.primary) {
            let keys: Vec<String> = i
                .keys
                .iter()
                .map(|k| match &k.opclass {
                    Some(op) => format!("{} {op}", k.text()),
                    None => k.text().to_owned(),
                })
                .collect();
            out.push_str(&format!(
                "CREATE {}INDEX {} ON public.{} USING {} ({}){};\n",
                if i.unique { "UNIQUE " } else { "" },
                i.name,
                t.name,
                i.method,
                keys.join(", "),
                i.predicate
                    .as_ref()
                    .map(|p| format!(" WHERE {p}"))
                    .unwrap_or_default()
            ));
        }
        for fk in &t.foreign_keys {
            out.push_str(&format!(
                "ALTER TABLE ONLY public.{}\n    ADD CONSTRAINT {} FOREIGN KEY ({}) REFERENCES public.{}(id){};\n",
                t.name,
                fk.name.clone().unwrap_or_default(),
                fk.columns.join(", "),
                fk.to_table,
                fk.on_delete.map(|a| format!(" ON DELETE {}", a.sql())).unwrap_or_default()
            ));
        }
        out.push('\n');
    }
    out
}

/// Runs `f` until `budget` has passed; returns the mean time per run.
fn measure(budget: Duration, mut f: impl FnMut()) -> (Duration, u32) {
    f(); // warm-up
    let start = Instant::now();
    let mut n = 0u32;
    while start.elapsed() < budget || n < 3 {
        f();
        n += 1;
    }
    (start.elapsed() / n, n)
}

fn main() {
    let schema = schema();
    let budget = Duration::from_secs(3);
    let indexes: usize = schema.tables.iter().map(|t| t.indexes.len()).sum();
    let suggestions = advise(&schema, &Options::default());
    println!(
        "schema: {} tables, {} indexes, {} foreign keys -> {} suggestions",
        schema.tables.len(),
        indexes,
        schema
            .tables
            .iter()
            .map(|t| t.foreign_keys.len())
            .sum::<usize>(),
        suggestions.len()
    );

    let (t, n) = measure(budget, || {
        black_box(advise(black_box(&schema), &Options::default()));
    });
    println!(
        "advise (500 tables):             {:8.2} ms/run  ({n} runs)",
        t.as_secs_f64() * 1e3
    );

    let json = schema.to_json();
    let (t, n) = measure(budget, || {
        black_box(advise_json(black_box(&json), "{}").unwrap());
    });
    println!(
        "advise_json (decode + encode):   {:8.2} ms/run  ({n} runs, {} KB of schema JSON)",
        t.as_secs_f64() * 1e3,
        json.len() / 1024
    );

    let sql = ddl(&schema);
    let (parsed, warnings) = from_ddl(&sql, Dialect::Postgres);
    assert!(warnings.is_empty(), "{warnings:?}");
    assert_eq!(parsed.tables.len(), TABLES);
    let (t, n) = measure(budget, || {
        black_box(from_ddl(black_box(&sql), Dialect::Postgres));
    });
    println!(
        "from_ddl (same schema as DDL):   {:8.2} ms/run  ({n} runs, {} KB of SQL)",
        t.as_secs_f64() * 1e3,
        sql.len() / 1024
    );

    // The workload: 10,000 distinct shapes over the 500 tables.
    let options = Options {
        workload: workload(&schema),
        ..Options::default()
    };
    let report = advise_report(&schema, &options);
    let of = |kind: SuggestionKind| report.suggestions.iter().filter(|s| s.kind == kind).count();
    let with_queries = report
        .suggestions
        .iter()
        .filter(|s| s.kind == SuggestionKind::MissingForeignKeyIndex && !s.queries.is_empty())
        .count();
    println!(
        "workload: {} shapes -> {} workload_index suggestions, {} missing FK suggestions with queries attached",
        options.workload.len(),
        of(SuggestionKind::WorkloadIndex),
        with_queries
    );
    println!("  {:?}", report.workload);
    assert_eq!(report.workload.queries, TABLES * SHAPES_PER_TABLE);
    assert_eq!(report.workload.unparseable, 0);
    let (t, n) = measure(budget, || {
        black_box(advise_report(black_box(&schema), black_box(&options)));
    });
    println!(
        "advise + workload (500 tables, 10,000 shapes): {:8.2} ms/run  ({n} runs)",
        t.as_secs_f64() * 1e3
    );
    // over_indexed_table: no table reaches the default 6 indexes besides
    // the primary key; with 3 and any write share, the rule runs in full.
    let low = Options {
        over_index_min: 3,
        write_share_min: 0.0,
        ..options.clone()
    };
    let over = advise_report(&schema, &low)
        .suggestions
        .iter()
        .filter(|s| s.kind == SuggestionKind::OverIndexedTable)
        .count();
    let (t, n) = measure(budget, || {
        black_box(advise_report(black_box(&schema), black_box(&low)));
    });
    println!(
        "advise + workload, over_index_min 3 ({over} over_indexed_table suggestions): {:8.2} ms/run  ({n} runs)",
        t.as_secs_f64() * 1e3
    );
    let options_json = serde_json::to_string(&options).unwrap();
    let (t, n) = measure(budget, || {
        black_box(advise_json_report(black_box(&json), black_box(&options_json)).unwrap());
    });
    println!(
        "advise_json_report + workload (decode + encode): {:8.2} ms/run  ({n} runs, {} KB of options JSON)",
        t.as_secs_f64() * 1e3,
        options_json.len() / 1024
    );
}
