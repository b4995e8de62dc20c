# frozen_string_literal: true

require "json"

module VirtualTrainerOptimizer
  module Introspection
    # The schema of a SQLite database: SQLite keeps each table's and index's
    # CREATE statement, which the core parses like a structure.sql (partial
    # predicates and expression keys included); a table whose statement it
    # cannot read is described by PRAGMA table_info / index_list /
    # foreign_key_list instead. Row counts come from sqlite_stat1 when
    # ANALYZE has run.
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
        # A CREATE TABLE the parser could not read: PRAGMA describes it.
        known = schema["tables"].map { |t| t["name"] }
        (table_names(connection) - known).each { |name| schema["tables"] << from_pragma(connection, name) }
        rows = row_counts(connection)
        schema["tables"].each { |t| t["rows"] ||= rows[t["name"]] }
        schema
      end

      def table_names(connection)
        connection.select_values(<<~SQL, "SCHEMA")
          SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'
            AND name NOT IN ('schema_migrations', 'ar_internal_metadata')
        SQL
      end

      # The table as SQLite's PRAGMAs describe it (expression keys and
      # partial predicates are not told apart there: such indexes are left
      # out rather than misdescribed).
      def from_pragma(connection, name)
        quoted = connection.quote_table_name(name)
        columns = connection.exec_query("PRAGMA table_info(#{quoted})", "SCHEMA").to_a
        indexes = connection.exec_query("PRAGMA index_list(#{quoted})", "SCHEMA").to_a.filter_map do |i|
          # The primary key's own index: the core models it from primary_key.
          next if i["partial"].to_i == 1 || i["origin"] == "pk"

          keys = connection.exec_query("PRAGMA index_xinfo(#{connection.quote_table_name(i['name'])})", "SCHEMA")
                           .to_a.select { |k| k["key"].to_i == 1 }
          next if keys.any? { |k| k["name"].nil? }

          { name: i["name"], unique: i["unique"].to_i == 1, primary: false,
            constraint: i["origin"] == "u", method: "btree", where: nil,
            keys: keys.map { |k| { column: k["name"], expression: nil, opclass: nil, order: k["desc"].to_i == 1 ? "desc" : "asc" } },
            include: [], scans: nil, size_bytes: nil }
        end
        fks = connection.exec_query("PRAGMA foreign_key_list(#{quoted})", "SCHEMA").to_a.group_by { |f| f["id"] }
        { name: name, rows: nil, size_bytes: nil,
          columns: columns.map { |c| { name: c["name"], type: c["type"], null: c["notnull"].to_i.zero?, default: c["dflt_value"] } },
          primary_key: columns.select { |c| c["pk"].to_i.positive? }.sort_by { |c| c["pk"].to_i }.map { |c| c["name"] },
          indexes: indexes,
          foreign_keys: fks.values.map do |parts|
            { name: nil, columns: parts.map { |f| f["from"] }, to_table: parts.first["table"],
              to_columns: parts.map { |f| f["to"] }, on_delete: parts.first["on_delete"].to_s.downcase.tr(" ", "_") }
          end }
      end

      def row_counts(connection)
        return {} if connection.select_value("SELECT count(*) FROM sqlite_master WHERE name = 'sqlite_stat1'").to_i.zero?

        # A table's own row (idx NULL) exists only when it has no index; each
        # index's row starts with the rows it covers: the table's, but for a
        # partial index. The largest is the table's.
        connection.select_rows("SELECT tbl, stat FROM sqlite_stat1", "SCHEMA")
                  .group_by(&:first).transform_values { |rows| rows.map { |_, stat| stat.to_s.split.first.to_i }.max }
      end
    end
  end
end
