# frozen_string_literal: true

module VirtualTrainerOptimizer
  module Introspection
    # The schema of a PostgreSQL database from its catalogs, in six queries
    # whatever the number of tables: the tables of the schemas on the
    # search_path (row estimates and sizes), their columns, indexes (keys,
    # expressions, non-default opclasses, ordering, INCLUDE, partial WHERE,
    # method, scans since the statistics were reset), foreign keys and the
    # planner's distinct-value and width estimates per column.
    module PostgreSQL
      TABLES = <<~SQL
        SELECT c.oid, c.relname, c.reltuples::bigint AS reltuples, pg_total_relation_size(c.oid) AS size
        FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
        WHERE c.relkind IN ('r', 'p') AND NOT c.relispartition
          AND n.nspname = ANY (current_schemas(false))
          AND c.relname NOT IN ('schema_migrations', 'ar_internal_metadata')
        ORDER BY c.relname
      SQL

      COLUMNS = <<~SQL
        SELECT a.attrelid, a.attname, format_type(a.atttypid, a.atttypmod) AS type, a.attnotnull,
               pg_get_expr(d.adbin, d.adrelid) AS default_value
        FROM pg_attribute a LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
        WHERE a.attrelid = ANY ($1::oid[]) AND a.attnum > 0 AND NOT a.attisdropped
        ORDER BY a.attrelid, a.attnum
      SQL

      INDEXES = <<~SQL
        SELECT i.indrelid, ic.relname AS name, i.indisunique, i.indisprimary, am.amname AS method,
               pg_get_expr(i.indpred, i.indrelid) AS predicate, i.indnkeyatts, i.indnatts,
               i.indkey::int2[] AS attnums, i.indoption::int2[] AS options,
               ARRAY(SELECT CASE WHEN oc.opcdefault THEN NULL ELSE oc.opcname END
                     FROM unnest(i.indclass::oid[]) WITH ORDINALITY AS k(opc, n)
                     JOIN pg_opclass oc ON oc.oid = k.opc ORDER BY k.n) AS opclasses,
               ARRAY(SELECT pg_get_indexdef(i.indexrelid, k, true)
                     FROM generate_series(1, i.indnatts) AS k ORDER BY k) AS definitions,
               EXISTS (SELECT 1 FROM pg_constraint co
                       WHERE co.conindid = i.indexrelid AND co.contype IN ('u', 'x')) AS backs_constraint,
               s.idx_scan, pg_relation_size(i.indexrelid) AS size
        FROM pg_index i
        JOIN pg_class ic ON ic.oid = i.indexrelid
        JOIN pg_am am ON am.oid = ic.relam
        LEFT JOIN pg_stat_user_indexes s ON s.indexrelid = i.indexrelid
        WHERE i.indrelid = ANY ($1::oid[])
        ORDER BY i.indrelid, ic.relname
      SQL

      FOREIGN_KEYS = <<~SQL
        SELECT co.conrelid, co.conname, ft.relname AS to_table, co.confdeltype,
               ARRAY(SELECT a.attname FROM unnest(co.conkey) WITH ORDINALITY AS k(num, n)
                     JOIN pg_attribute a ON a.attrelid = co.conrelid AND a.attnum = k.num ORDER BY k.n) AS columns,
               ARRAY(SELECT a.attname FROM unnest(co.confkey) WITH ORDINALITY AS k(num, n)
                     JOIN pg_attribute a ON a.attrelid = co.confrelid AND a.attnum = k.num ORDER BY k.n) AS to_columns
        FROM pg_constraint co JOIN pg_class ft ON ft.oid = co.confrelid
        WHERE co.contype = 'f' AND co.conrelid = ANY ($1::oid[])
        ORDER BY co.conrelid, co.conname
      SQL

      # The planner's distinct-value estimates (after ANALYZE): negative
      # values are a fraction of the table's rows.
      STATS = <<~SQL
        SELECT tablename, attname, n_distinct, avg_width FROM pg_stats
        WHERE schemaname = ANY (current_schemas(false)) AND tablename = ANY ($1::text[]) AND NOT inherited
      SQL

      ON_DELETE = { "a" => "no_action", "r" => "restrict", "c" => "cascade", "n" => "set_null",
                    "d" => "set_default" }.freeze

      module_function

      # `usage`: include index scan counts (pg_stat_user_indexes) so unused
      # indexes can be told; leave it off where the statistics mean little
      # (a test database, a replica, right after a stats reset).
      def schema(connection, usage: true)
        raw = connection.raw_connection
        tables = raw.exec(TABLES).to_a
        return { dialect: "postgresql", tables: [] } if tables.empty?

        oids = PG::TextEncoder::Array.new.encode(tables.map { |t| t["oid"] })
        columns = raw.exec_params(COLUMNS, [oids]).group_by { |r| r["attrelid"] }
        indexes = raw.exec_params(INDEXES, [oids]).group_by { |r| r["indrelid"] }
        fks = raw.exec_params(FOREIGN_KEYS, [oids]).group_by { |r| r["conrelid"] }
        names = PG::TextEncoder::Array.new.encode(tables.map { |t| t["relname"] })
        stats = raw.exec_params(STATS, [names]).to_h { |r| [[r["tablename"], r["attname"]], r] }
        decoder = PG::TextDecoder::Array.new
        { dialect: "postgresql",
          tables: tables.map do |t|
            table_indexes = (indexes[t["oid"]] || []).map { |i| index(i, decoder, usage) }
            primary = table_indexes.find { |i| i[:primary] }
            rows = t["reltuples"].to_i
            rows = nil if rows.negative?
            { name: t["relname"], rows: rows, size_bytes: t["size"].to_i,
              columns: (columns[t["oid"]] || []).map { |c| column(c, stats[[t["relname"], c["attname"]]], rows) },
              primary_key: primary ? primary[:keys].map { |k| k[:column] } : [],
              indexes: table_indexes,
              foreign_keys: (fks[t["oid"]] || []).map { |f| foreign_key(f, decoder) } }
          end }
      end

      def column(row, stats = nil, rows = nil)
        { name: row["attname"], type: row["type"], null: !truthy(row["attnotnull"]), default: row["default_value"],
          distinct: stats && distinct(stats["n_distinct"]&.to_f, rows), avg_width: stats && stats["avg_width"]&.to_i }
      end

      def distinct(n_distinct, rows)
        return nil if n_distinct.nil?
        return n_distinct.round if n_distinct.positive?

        rows && (-n_distinct * rows).round
      end

      def index(row, decoder, usage)
        attnums = array(row["attnums"], decoder).map(&:to_i)
        options = array(row["options"], decoder).map(&:to_i)
        opclasses = array(row["opclasses"], decoder)
        definitions = array(row["definitions"], decoder)
        key_count = row["indnkeyatts"].to_i
        keys = (0...key_count).map do |k|
          expression = attnums[k].zero?
          { column: expression ? nil : unquote(definitions[k]), expression: expression ? definitions[k] : nil,
            opclass: opclasses[k], order: (options[k] & 1).zero? ? "asc" : "desc" }
        end
        { name: row["name"], unique: truthy(row["indisunique"]), primary: truthy(row["indisprimary"]),
          constraint: truthy(row["backs_constraint"]), method: row["method"], where: row["predicate"], keys: keys,
          include: definitions.drop(key_count).map { |d| unquote(d) },
          scans: usage && row["idx_scan"] ? row["idx_scan"].to_i : nil, size_bytes: row["size"].to_i }
      end

      def foreign_key(row, decoder)
        { name: row["conname"], columns: array(row["columns"], decoder), to_table: row["to_table"],
          to_columns: array(row["to_columns"], decoder), on_delete: ON_DELETE[row["confdeltype"]] }
      end

      # The adapter's result type map may have decoded values already.
      def truthy(value)
        value == true || value == "t"
      end

      def array(value, decoder)
        value.is_a?(Array) ? value : decoder.decode(value.to_s)
      end

      # pg_get_indexdef quotes identifiers that need it ("order"); a column
      # name is wanted as is.
      def unquote(name)
        name.start_with?('"') && name.end_with?('"') ? name[1..-2].gsub('""', '"') : name
      end
    end
  end
end
