//! The schema model from SQL DDL: real `pg_dump --schema-only` output, Rails
//! structure.sql extras, MySQL `SHOW CREATE TABLE`, SQLite `.schema`, and
//! hostile input that must end as warnings, never as a panic.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // tests fail loudly

use vto_core::schema::{
    from_ddl, from_ddl_json, from_ddl_with_limits, Index, OnDelete, Order, Schema, Table,
    MAX_WARNINGS,
};
use vto_core::sql::Limits;
use vto_core::Dialect;

/// `pg_dump --schema-only --no-owner` (PostgreSQL 15) of a scratch database:
/// pg_trgm, GIN and GiST trigram indexes, a partial, an expression and an
/// INCLUDE index, composite primary keys, foreign keys with ON DELETE CASCADE
/// and SET NULL, an EXCLUDE constraint, a partitioned table, a plpgsql
/// function whose `$$` body has semicolons, a trigger, a view, a table and an
/// index whose names need quotes (one with a `;` inside).
const PG_DUMP: &str = include_str!("fixtures/pg_dump_schema_only.sql");

fn table<'a>(schema: &'a Schema, name: &str) -> &'a Table {
    schema
        .table(name)
        .unwrap_or_else(|| panic!("no table {name}"))
}

fn index<'a>(table: &'a Table, name: &str) -> &'a Index {
    table
        .indexes
        .iter()
        .find(|i| i.name == name)
        .unwrap_or_else(|| panic!("no index {name} on {}", table.name))
}

fn key_texts(index: &Index) -> Vec<&str> {
    index.keys.iter().map(|k| k.text()).collect()
}

#[test]
fn pg_dump_fixture_reads_without_warnings() {
    let (schema, warnings) = from_ddl(PG_DUMP, Dialect::Postgres);
    assert_eq!(warnings, []);
    assert_eq!(schema.dialect, Dialect::Postgres);
    let mut names: Vec<&str> = schema.tables.iter().map(|t| t.name.as_str()).collect();
    names.sort_unstable();
    assert_eq!(
        names,
        [
            "Audit Log",
            "ar_internal_metadata",
            "categories",
            "comments",
            "completed_workouts",
            "exercises",
            "room_bookings",
            "schema_migrations",
            "team_memberships",
            "teams",
            "users",
            "workout_events",
            "workout_events_2024",
            "workouts",
        ]
    );
    // Views, sequences and functions are not tables.
    assert!(schema.table("recent_completed_workouts").is_none());
    assert!(schema.table("users_id_seq").is_none());
}

#[test]
fn pg_dump_columns_types_defaults_and_primary_keys() {
    let (schema, _) = from_ddl(PG_DUMP, Dialect::Postgres);
    let cw = table(&schema, "completed_workouts");
    let columns: Vec<(&str, &str, bool)> = cw
        .columns
        .iter()
        .map(|c| (c.name.as_str(), c.sql_type.as_str(), c.null))
        .collect();
    assert_eq!(
        columns,
        [
            ("id", "bigint", false),
            ("user_id", "bigint", false),
            ("workout_id", "bigint", false),
            ("duration_seconds", "integer", true),
            ("notes", "text", true),
            ("discarded_at", "timestamp(6) without time zone", true),
            ("created_at", "timestamp(6) without time zone", false),
            ("updated_at", "timestamp(6) without time zone", false),
        ]
    );
    assert_eq!(cw.primary_key, ["id"]);
    let pkey = index(cw, "completed_workouts_pkey");
    assert!(pkey.primary && pkey.unique && !pkey.constraint);

    let memberships = table(&schema, "team_memberships");
    assert_eq!(memberships.primary_key, ["team_id", "user_id"]);
    let role = memberships.column("role").unwrap();
    assert_eq!(role.default.as_deref(), Some("'member'::character varying"));
    assert!(!role.null);

    let exercises = table(&schema, "exercises");
    assert_eq!(exercises.column("id").unwrap().sql_type, "uuid");
    assert_eq!(
        exercises.column("id").unwrap().default.as_deref(),
        Some("gen_random_uuid()")
    );
    assert_eq!(
        exercises.column("name").unwrap().sql_type,
        "character varying(255)"
    );
    assert_eq!(
        exercises.column("weight").unwrap().sql_type,
        "numeric(10,2)"
    );
    assert_eq!(
        exercises.column("tags").unwrap().sql_type,
        "character varying[]"
    );

    // A name that needs quotes, in the `public` schema.
    let audit = table(&schema, "Audit Log");
    assert_eq!(audit.primary_key, ["id"]);
    assert_eq!(index(audit, "Audit Log_pkey").keys.len(), 1);
    // The index whose quoted name holds a `;` was not split.
    let payload = index(audit, "index_audit;log_on_payload");
    assert_eq!(payload.method, "gin");
}

#[test]
fn pg_dump_indexes_keep_method_opclass_order_predicate_and_include() {
    let (schema, _) = from_ddl(PG_DUMP, Dialect::Postgres);
    let users = table(&schema, "users");
    let trgm = index(users, "index_users_on_name_trgm");
    assert_eq!(trgm.method, "gin");
    // `public.gin_trgm_ops` in the dump: the public schema is dropped.
    assert_eq!(trgm.keys[0].opclass.as_deref(), Some("gin_trgm_ops"));
    assert_eq!(trgm.keys[0].column.as_deref(), Some("name"));
    let lower = index(users, "index_users_on_lower_email");
    assert!(lower.unique);
    assert_eq!(lower.keys[0].column, None);
    assert_eq!(
        lower.keys[0].expression.as_deref(),
        Some("lower((email)::text)")
    );
    assert!(index(users, "index_users_on_email").unique);

    let cw = table(&schema, "completed_workouts");
    let partial = index(cw, "index_completed_workouts_active");
    assert_eq!(partial.predicate.as_deref(), Some("(discarded_at IS NULL)"));
    assert_eq!(key_texts(partial), ["workout_id"]);
    let covering = index(cw, "index_completed_workouts_covering");
    assert_eq!(covering.include, ["duration_seconds"]);
    let composite = index(cw, "index_completed_workouts_on_user_id_and_created_at");
    assert_eq!(key_texts(composite), ["user_id", "created_at"]);
    assert_eq!(composite.keys[0].order, Order::Asc);
    assert_eq!(composite.keys[1].order, Order::Desc);

    let exercises = table(&schema, "exercises");
    let pattern = index(exercises, "index_exercises_on_name_lower");
    assert_eq!(
        pattern.keys[0].expression.as_deref(),
        Some("lower((name)::text)")
    );
    assert_eq!(
        pattern.keys[0].opclass.as_deref(),
        Some("varchar_pattern_ops")
    );
    assert_eq!(
        index(exercises, "index_exercises_on_workout_id_hash").method,
        "hash"
    );

    let comments = table(&schema, "comments");
    let gist = index(comments, "index_comments_on_body_trgm");
    assert_eq!(
        (gist.method.as_str(), gist.keys[0].opclass.as_deref()),
        ("gist", Some("gist_trgm_ops"))
    );

    // EXCLUDE and UNIQUE constraints back indexes of their own.
    let bookings = table(&schema, "room_bookings");
    let exclusion = index(bookings, "no_overlapping_bookings");
    assert!(exclusion.constraint && !exclusion.unique);
    assert_eq!(exclusion.method, "gist");
    let memberships = table(&schema, "team_memberships");
    let unique = index(memberships, "team_memberships_user_id_team_id_key");
    assert!(unique.unique && unique.constraint);
    assert_eq!(key_texts(unique), ["user_id", "team_id"]);

    // `CREATE INDEX ... ON ONLY` of a partitioned table, and the partition's own.
    let events = table(&schema, "workout_events");
    assert_eq!(events.primary_key, ["id", "occurred_at"]);
    assert_eq!(
        index(events, "index_workout_events_on_occurred_at_brin").method,
        "brin"
    );
    assert_eq!(
        key_texts(index(events, "index_workout_events_on_user_id")),
        ["user_id"]
    );
    let partition = table(&schema, "workout_events_2024");
    assert_eq!(partition.indexes.len(), 3);
}

#[test]
fn pg_dump_foreign_keys_with_on_delete() {
    let (schema, _) = from_ddl(PG_DUMP, Dialect::Postgres);
    let fk = |t: &str, column: &str| {
        table(&schema, t)
            .foreign_keys
            .iter()
            .find(|f| f.columns == [column])
            .unwrap_or_else(|| panic!("no foreign key {t}.{column}"))
            .clone()
    };
    let user = fk("completed_workouts", "user_id");
    assert_eq!(
        user.name.as_deref(),
        Some("completed_workouts_user_id_fkey")
    );
    assert_eq!(
        (user.to_table.as_str(), user.to_columns.as_slice()),
        ("users", &["id".to_owned()][..])
    );
    assert_eq!(user.on_delete, Some(OnDelete::Cascade));
    assert_eq!(
        fk("completed_workouts", "workout_id").on_delete,
        Some(OnDelete::Cascade)
    );
    assert_eq!(fk("teams", "owner_id").on_delete, Some(OnDelete::SetNull));
    assert_eq!(fk("users", "team_id").on_delete, None);
    assert_eq!(fk("team_memberships", "team_id").to_table, "teams");
    assert_eq!(
        fk("team_memberships", "user_id").on_delete,
        Some(OnDelete::Cascade)
    );
    let declared: usize = schema.tables.iter().map(|t| t.foreign_keys.len()).sum();
    assert_eq!(declared, 6);
}

#[test]
fn rails_structure_sql_extras_are_skipped_silently() {
    let sql = format!(
        "{PG_DUMP}\nSET search_path TO \"$user\", public;\n\n\
         INSERT INTO \"schema_migrations\" (version) VALUES\n('20240101000000'),\n('20240102000000');\n\n\
         ALTER TABLE public.t ALTER COLUMN id ADD GENERATED BY DEFAULT AS IDENTITY (\n    SEQUENCE NAME public.t_id_seq\n    START WITH 1\n    CACHE 1\n);\n\
         CREATE FUNCTION public.one() RETURNS integer LANGUAGE sql\n    BEGIN ATOMIC\n SELECT 1;\n SELECT CASE WHEN true THEN 1 END;\nEND;\n\
         CREATE MATERIALIZED VIEW public.stats AS SELECT 1 AS one WITH NO DATA;\n\
         GRANT SELECT ON public.users TO reporting;\n"
    );
    let (schema, warnings) = from_ddl(&sql, Dialect::Postgres);
    assert_eq!(warnings, []);
    assert_eq!(schema.tables.len(), 14);
    assert!(schema.table("t").is_none());
}

#[test]
fn inline_and_table_level_constraints() {
    let sql = r#"
        CREATE TABLE Users (Id bigserial PRIMARY KEY, "Email" text UNIQUE NOT NULL);
        CREATE TABLE teams (id bigint NOT NULL, name text);
        CREATE TABLE memberships (
          team_id bigint NOT NULL REFERENCES teams ON DELETE CASCADE,
          user_id bigint CONSTRAINT fk_user REFERENCES public.users(id) ON DELETE SET NULL,
          note text DEFAULT 'hi',
          PRIMARY KEY (team_id, user_id),
          CONSTRAINT uniq_user UNIQUE (user_id),
          FOREIGN KEY (note) REFERENCES notes(body) ON DELETE SET DEFAULT
        );
        ALTER TABLE ONLY teams ADD CONSTRAINT teams_pkey PRIMARY KEY (id);
        CREATE UNIQUE INDEX CONCURRENTLY IF NOT EXISTS idx_teams_name ON teams USING btree (lower(name) DESC) INCLUDE (id) WHERE (name IS NOT NULL);
        ALTER TABLE teams ADD COLUMN owner_id integer;
        ALTER TABLE teams ADD CONSTRAINT teams_name_key UNIQUE USING INDEX idx_teams_name;
        CREATE INDEX idx_fast ON teams (owner_id) TABLESPACE fast;
    "#;
    let (schema, warnings) = from_ddl(sql, Dialect::Postgres);
    assert_eq!(warnings, []);
    // Unquoted names fold to lower case; quoted ones keep their case.
    let users = table(&schema, "users");
    assert_eq!(users.primary_key, ["id"]);
    assert_eq!(users.column("Email").map(|c| c.null), Some(false));
    let email = index(users, "users_Email_key");
    assert!(email.unique && email.constraint);

    let m = table(&schema, "memberships");
    assert_eq!(m.primary_key, ["team_id", "user_id"]);
    assert_eq!(index(m, "memberships_pkey").keys.len(), 2);
    assert!(index(m, "uniq_user").constraint);
    let fks: Vec<(Option<&str>, &str, &str, Option<OnDelete>)> = m
        .foreign_keys
        .iter()
        .map(|f| {
            (
                f.name.as_deref(),
                f.columns[0].as_str(),
                f.to_table.as_str(),
                f.on_delete,
            )
        })
        .collect();
    assert_eq!(
        fks,
        [
            (None, "team_id", "teams", Some(OnDelete::Cascade)),
            (Some("fk_user"), "user_id", "users", Some(OnDelete::SetNull)),
            (None, "note", "notes", Some(OnDelete::SetDefault)),
        ]
    );
    // `REFERENCES teams` without columns: the referenced primary key.
    assert_eq!(m.foreign_keys[0].to_columns, ["id"]);
    assert_eq!(m.column("note").unwrap().default.as_deref(), Some("'hi'"));

    let teams = table(&schema, "teams");
    assert_eq!(teams.primary_key, ["id"]);
    assert_eq!(teams.column("owner_id").unwrap().sql_type, "integer");
    let idx = index(teams, "idx_teams_name");
    assert!(
        idx.unique && idx.constraint,
        "promoted by UNIQUE USING INDEX"
    );
    assert_eq!(idx.keys[0].expression.as_deref(), Some("lower(name)"));
    assert_eq!(idx.keys[0].order, Order::Desc);
    assert_eq!(idx.include, ["id"]);
    assert_eq!(idx.predicate.as_deref(), Some("(name IS NOT NULL)"));
    assert_eq!(key_texts(index(teams, "idx_fast")), ["owner_id"]);
}

#[test]
fn other_schemas_keep_their_name() {
    let (schema, warnings) = from_ddl(
        "CREATE TABLE analytics.events (id bigint, user_id bigint);\
         CREATE INDEX idx ON analytics.events (user_id);",
        Dialect::Postgres,
    );
    assert_eq!(warnings, []);
    assert_eq!(
        key_texts(index(table(&schema, "analytics.events"), "idx")),
        ["user_id"]
    );
}

#[test]
fn unreadable_statements_become_warnings_with_position() {
    let sql = "SET x = 1;\n\
               CREATE TABLE ok (id bigint);\n\
               CREATE TABLE public.typed OF public.my_type;\n\
               CREATE TABLE broken (a int,, b int DEFAULT 'secret-value');\n\
               CREATE INDEX i ON ok (id);";
    let (schema, warnings) = from_ddl(sql, Dialect::Postgres);
    assert_eq!(warnings.len(), 2, "{warnings:?}");
    assert_eq!((warnings[0].statement_index, warnings[0].line), (2, 3));
    assert_eq!((warnings[1].statement_index, warnings[1].line), (3, 4));
    assert!(
        warnings[0]
            .message
            .starts_with("CREATE TABLE not read (CREATE TABLE public.typed OF"),
        "{}",
        warnings[0].message
    );
    // Literal values never appear in a warning.
    assert!(
        !warnings[1].message.contains("secret"),
        "{}",
        warnings[1].message
    );
    // The statements around them are read.
    assert_eq!(table(&schema, "ok").indexes.len(), 1);
}

#[test]
fn json_output_shape() {
    let json = from_ddl_json(
        "CREATE TABLE t (id int PRIMARY KEY); CREATE TABLE u OF x;",
        "postgres",
    )
    .unwrap();
    let value: serde_json::Value = serde_json::from_str(&json).unwrap();
    assert_eq!(value["schema"]["dialect"], "postgresql");
    assert_eq!(value["schema"]["tables"][0]["name"], "t");
    assert_eq!(value["schema"]["tables"][0]["indexes"][0]["primary"], true);
    assert_eq!(value["warnings"][0]["statement_index"], 1);
    assert_eq!(value["warnings"][0]["line"], 1);
    assert!(value["warnings"][0]["message"].is_string());
    // The JSON reads back as the same schema.
    let back = Schema::from_json(&value["schema"].to_string()).unwrap();
    assert_eq!(
        back,
        from_ddl("CREATE TABLE t (id int PRIMARY KEY);", Dialect::Postgres).0
    );
    assert!(from_ddl_json("", "oracle").is_err());
}

#[test]
fn mysql_show_create_table() {
    let sql = "/*!40101 SET @OLD_CHARACTER_SET_CLIENT=@@CHARACTER_SET_CLIENT */;\n\
        DROP TABLE IF EXISTS `users`;\n\
        /*!40101 SET character_set_client = utf8mb4 */;\n\
        CREATE TABLE `users` (\n\
          `id` bigint NOT NULL AUTO_INCREMENT,\n\
          `email` varchar(255) NOT NULL,\n\
          `name` varchar(255) DEFAULT NULL,\n\
          `team_id` bigint DEFAULT NULL,\n\
          `manager_id` bigint DEFAULT NULL,\n\
          `bio` text,\n\
          `created_at` datetime(6) NOT NULL,\n\
          PRIMARY KEY (`id`),\n\
          UNIQUE KEY `index_users_on_email` (`email`),\n\
          KEY `index_users_on_team_id` (`team_id`),\n\
          KEY `index_users_on_name_prefix` (`name`(10)),\n\
          KEY `index_users_on_created_at` (`created_at` DESC) USING BTREE,\n\
          FULLTEXT KEY `index_users_on_bio` (`bio`),\n\
          CONSTRAINT `fk_rails_1` FOREIGN KEY (`team_id`) REFERENCES `teams` (`id`) ON DELETE CASCADE\n\
        ) ENGINE=InnoDB AUTO_INCREMENT=3 DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_0900_ai_ci;\n\
        LOCK TABLES `users` WRITE;\n\
        UNLOCK TABLES;\n\
        ALTER TABLE `users` ADD CONSTRAINT `fk_rails_2` FOREIGN KEY (`manager_id`) REFERENCES `users` (`id`);\n\
        DELIMITER ;;\n\
        CREATE TRIGGER t BEFORE INSERT ON users FOR EACH ROW BEGIN SET NEW.name = 'x'; END ;;\n\
        DELIMITER ;\n\
        CREATE INDEX `index_users_on_name_and_email` ON `users` (`name`, `email`);\n";
    let (schema, warnings) = from_ddl(sql, Dialect::Mysql);
    assert_eq!(warnings, []);
    assert_eq!(schema.tables.len(), 1);
    let users = table(&schema, "users");
    assert_eq!(users.primary_key, ["id"]);
    assert!(index(users, "PRIMARY").primary);
    let email = index(users, "index_users_on_email");
    assert!(
        email.unique && !email.constraint,
        "a MySQL UNIQUE KEY is a plain index"
    );
    assert_eq!(index(users, "index_users_on_bio").method, "fulltext");
    assert_eq!(
        index(users, "index_users_on_created_at").keys[0].order,
        Order::Desc
    );
    assert_eq!(
        index(users, "index_users_on_name_prefix").keys[0].column,
        None
    );
    assert_eq!(
        key_texts(index(users, "index_users_on_name_and_email")),
        ["name", "email"]
    );
    assert_eq!(users.column("email").unwrap().sql_type, "varchar(255)");
    assert_eq!(
        users.column("name").unwrap().default,
        None,
        "DEFAULT NULL is no default"
    );
    assert_eq!(users.foreign_keys.len(), 2);
    assert_eq!(users.foreign_keys[0].on_delete, Some(OnDelete::Cascade));
    // InnoDB indexes a foreign key no index leads with, under the constraint's name.
    assert_eq!(key_texts(index(users, "fk_rails_2")), ["manager_id"]);
}

#[test]
fn sqlite_schema() {
    let sql = "CREATE TABLE IF NOT EXISTS \"schema_migrations\" (\"version\" varchar NOT NULL PRIMARY KEY);\n\
        CREATE TABLE IF NOT EXISTS \"users\" (\"id\" integer PRIMARY KEY AUTOINCREMENT NOT NULL, \"email\" varchar NOT NULL, \"team_id\" integer, \
          CONSTRAINT \"fk_rails_1\" FOREIGN KEY (\"team_id\") REFERENCES \"teams\" (\"id\") ON DELETE CASCADE);\n\
        CREATE TABLE sqlite_sequence(name,seq);\n\
        CREATE UNIQUE INDEX \"index_users_on_email\" ON \"users\" (\"email\");\n\
        CREATE INDEX \"index_users_on_lower_email\" ON \"users\" (lower(email)) WHERE team_id IS NOT NULL;\n\
        CREATE TABLE t (a INTEGER REFERENCES users, b TEXT UNIQUE);\n";
    let (schema, warnings) = from_ddl(sql, Dialect::Sqlite);
    assert_eq!(warnings, []);
    let users = table(&schema, "users");
    assert_eq!(users.primary_key, ["id"]);
    // SQLite's INTEGER PRIMARY KEY is the rowid: no index of its own.
    assert!(users.indexes.iter().all(|i| !i.primary));
    assert_eq!(users.foreign_keys[0].on_delete, Some(OnDelete::Cascade));
    let lower = index(users, "index_users_on_lower_email");
    assert_eq!(lower.keys[0].expression.as_deref(), Some("lower(email)"));
    assert_eq!(lower.predicate.as_deref(), Some("team_id IS NOT NULL"));
    let sequence = table(&schema, "sqlite_sequence");
    assert_eq!(sequence.columns[0].sql_type, "");
    let t = table(&schema, "t");
    assert_eq!(t.foreign_keys[0].to_columns, ["id"]);
    assert!(index(t, "sqlite_autoindex_t_1").unique);
}

// ---- hostile input --------------------------------------------------------

#[test]
fn an_oversized_statement_is_a_warning() {
    let mut sql = String::from("CREATE TABLE big (");
    for i in 0..60_000 {
        sql.push_str(&format!("c{i} integer DEFAULT 0, "));
    }
    sql.push_str("id bigint);\nCREATE TABLE small (id bigint);");
    assert!(sql.len() > vto_core::sql::DEFAULT_MAX_INPUT_BYTES);
    let (schema, warnings) = from_ddl(&sql, Dialect::Postgres);
    assert_eq!(warnings.len(), 1);
    assert!(
        warnings[0].message.contains("exceed the limit"),
        "{}",
        warnings[0].message
    );
    assert!(schema.table("big").is_none());
    assert!(schema.table("small").is_some());
    // Statements that are skipped are never parsed, whatever their size.
    let skipped = format!(
        "ALTER TABLE t ALTER COLUMN a SET DEFAULT {};",
        "1 + ".repeat(2_000_000)
    );
    assert_eq!(from_ddl(&skipped, Dialect::Postgres).1, []);
    let index = format!("CREATE INDEX i ON t ({});", "a, ".repeat(1_000_000));
    let (_, warnings) = from_ddl(&index, Dialect::Postgres);
    assert!(warnings[0].message.contains("exceed the limit"));
}

#[test]
fn deep_nesting_and_long_chains_are_refused_before_parsing() {
    let deep = format!(
        "CREATE TABLE t (a int DEFAULT {}1{});",
        "(".repeat(100_000),
        ")".repeat(100_000)
    );
    let chain = format!(
        "CREATE TABLE t (a int CHECK (a = 0{}));",
        " OR a = 1".repeat(5_000)
    );
    let index = format!(
        "CREATE INDEX i ON t (({}a{}));",
        "(".repeat(5_000),
        ")".repeat(5_000)
    );
    let alter = format!(
        "ALTER TABLE t ADD CONSTRAINT c CHECK ({}a{});",
        "(".repeat(50),
        ")".repeat(50)
    );
    for (sql, needle) in [
        (deep, "nest deeper"),
        (chain, "AND/OR terms"),
        (index, "nest deeper"),
        (alter, "nest deeper"),
    ] {
        for dialect in [Dialect::Postgres, Dialect::Mysql, Dialect::Sqlite] {
            let (_, warnings) = from_ddl(&sql, dialect);
            assert_eq!(warnings.len(), 1, "{dialect:?}");
            assert!(
                warnings[0].message.contains(needle),
                "{}",
                warnings[0].message
            );
        }
    }
}

#[test]
fn a_wide_table_with_casts_in_every_default_is_fine() {
    let mut sql = String::from("CREATE TABLE wide (");
    for i in 0..800 {
        sql.push_str(&format!(
            "c{i} character varying DEFAULT 'x'::character varying, "
        ));
    }
    sql.push_str("id bigint);");
    let (schema, warnings) = from_ddl(&sql, Dialect::Postgres);
    assert_eq!(warnings, []);
    assert_eq!(table(&schema, "wide").columns.len(), 801);
}

#[test]
fn at_the_limits_on_a_small_stack() {
    // Right under the default limits, on a stack the size of a Ruby fiber's.
    let nested = format!(
        "CREATE TABLE t (a int DEFAULT {}1{}, b int CHECK (b = 0{}));",
        "(".repeat(30),
        ")".repeat(30),
        " OR b = 1".repeat(240)
    );
    let handle = std::thread::Builder::new()
        .stack_size(512 * 1024)
        .spawn(move || from_ddl(&nested, Dialect::Postgres))
        .unwrap();
    let (schema, warnings) = handle.join().unwrap();
    assert_eq!(warnings, []);
    assert_eq!(table(&schema, "t").columns.len(), 2);
}

#[test]
fn garbage_bytes_and_unterminated_tokens() {
    let mut seed = 0x2545_f491_4f6c_dd1du64;
    let mut garbage = Vec::with_capacity(200_000);
    for _ in 0..200_000 {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        garbage.push((seed & 0xff) as u8);
    }
    let text = String::from_utf8_lossy(&garbage).into_owned();
    let inputs = [
        text.clone(),
        format!("CREATE TABLE {text}"),
        format!("CREATE INDEX {text}"),
        format!("ALTER TABLE t ADD {text}"),
        "CREATE TABLE t (a text DEFAULT 'unterminated".to_owned(),
        "CREATE FUNCTION f() AS $$ never closed; CREATE TABLE x (id int);".to_owned(),
        "CREATE TABLE \"unterminated (id int);".to_owned(),
        "/* unterminated comment CREATE TABLE t (id int);".to_owned(),
        "\\restrict".to_owned(),
        "\0\0CREATE\0TABLE\0".to_owned(),
        ";;;;".to_owned(),
        String::new(),
    ];
    for input in &inputs {
        for dialect in [Dialect::Postgres, Dialect::Mysql, Dialect::Sqlite] {
            let (_, warnings) = from_ddl(input, dialect);
            assert!(warnings.len() <= MAX_WARNINGS + 1);
        }
    }
    // Every prefix of the fixture's first 4 KB.
    let sample = &PG_DUMP[..4096.min(PG_DUMP.len())];
    for end in (0..=sample.len()).filter(|&e| sample.is_char_boundary(e)) {
        let _ = from_ddl(&sample[..end], Dialect::Postgres);
    }
}

#[test]
fn warnings_stop_at_the_cap() {
    let sql = "CREATE TABLE t OF x;\n".repeat(MAX_WARNINGS + 50);
    let (_, warnings) = from_ddl(&sql, Dialect::Postgres);
    assert_eq!(warnings.len(), MAX_WARNINGS + 1);
    assert!(warnings[MAX_WARNINGS]
        .message
        .starts_with("50 more statements"));
}

#[test]
fn custom_limits() {
    let limits = Limits {
        max_input_bytes: 32,
        ..Limits::default()
    };
    let (schema, warnings) = from_ddl_with_limits(
        "CREATE TABLE a (id int); CREATE TABLE a_table_with_a_long_definition (id bigint NOT NULL);",
        Dialect::Postgres,
        limits,
    );
    assert_eq!(schema.tables.len(), 1);
    assert_eq!(warnings.len(), 1);
}
