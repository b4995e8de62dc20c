# frozen_string_literal: true

require "json"

module VirtualTrainerOptimizer
  module Introspection
    # The schema of a SQLite database: SQLite keeps each table's and index's
    # CREATE statement, which the core parses like a structure.sql; row counts
    # come from sqlite_stat1 when ANALYZE has run.
    module SQLite
      module_function

      def schema(connection)
        statements = connection.select_rows(<<~SQL, "SCHEMA").map(&:first)
          SELECT sql FROM sqlite_master
          WHERE sql IS NOT NULL AND type IN ('table', 'index') AND name NOT LIKE 'sqlite_%'
            AND tbl_name NOT IN ('schema_migrations', 'ar_internal_metadata')
          ORDER BY type = 'index', name
        SQL
        parsed = JSON.parse(Native.schema_from_ddl(statements.join(";\n"), "sqlite"))
        schema = parsed["schema"]
        rows = row_counts(connection)
        schema["tables"].each { |t| t["rows"] ||= rows[t["name"]] }
        schema
      end

      def row_counts(connection)
        return {} if connection.select_value("SELECT count(*) FROM sqlite_master WHERE name = 'sqlite_stat1'").to_i.zero?

        connection.select_rows("SELECT tbl, stat FROM sqlite_stat1 WHERE idx IS NULL OR idx = tbl", "SCHEMA")
                  .to_h { |tbl, stat| [tbl, stat.to_s.split.first.to_i] }
      end
    end
  end
end
