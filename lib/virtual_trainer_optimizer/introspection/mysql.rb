# frozen_string_literal: true

module VirtualTrainerOptimizer
  module Introspection
    # The schema of a MySQL or MariaDB database from information_schema, in
    # four queries: tables (row estimates, data + index size), columns,
    # indexes (BTREE, HASH, FULLTEXT, SPATIAL; prefix lengths and MySQL 8
    # functional keys kept as expressions) and foreign keys.
    module MySQL
      TABLES = <<~SQL
        SELECT TABLE_NAME, TABLE_ROWS, DATA_LENGTH + INDEX_LENGTH AS SIZE
        FROM information_schema.TABLES
        WHERE TABLE_SCHEMA = DATABASE() AND TABLE_TYPE = 'BASE TABLE'
          AND TABLE_NAME NOT IN ('schema_migrations', 'ar_internal_metadata')
        ORDER BY TABLE_NAME
      SQL

      COLUMNS = <<~SQL
        SELECT TABLE_NAME, COLUMN_NAME, COLUMN_TYPE, IS_NULLABLE, COLUMN_DEFAULT
        FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = DATABASE()
        ORDER BY TABLE_NAME, ORDINAL_POSITION
      SQL

      INDEXES = "SELECT * FROM information_schema.STATISTICS WHERE TABLE_SCHEMA = DATABASE() " \
                "ORDER BY TABLE_NAME, INDEX_NAME, SEQ_IN_INDEX"

      FOREIGN_KEYS = <<~SQL
        SELECT k.TABLE_NAME, k.CONSTRAINT_NAME, k.COLUMN_NAME, k.REFERENCED_TABLE_NAME, k.REFERENCED_COLUMN_NAME,
               r.DELETE_RULE
        FROM information_schema.KEY_COLUMN_USAGE k
        JOIN information_schema.REFERENTIAL_CONSTRAINTS r
          ON r.CONSTRAINT_SCHEMA = k.CONSTRAINT_SCHEMA AND r.CONSTRAINT_NAME = k.CONSTRAINT_NAME
         AND r.TABLE_NAME = k.TABLE_NAME
        WHERE k.TABLE_SCHEMA = DATABASE() AND k.REFERENCED_TABLE_NAME IS NOT NULL
        ORDER BY k.TABLE_NAME, k.CONSTRAINT_NAME, k.ORDINAL_POSITION
      SQL

      module_function

      def schema(connection)
        tables = rows(connection, TABLES)
        columns = rows(connection, COLUMNS).group_by { |r| r["TABLE_NAME"] }
        indexes = rows(connection, INDEXES).group_by { |r| r["TABLE_NAME"] }
        fks = rows(connection, FOREIGN_KEYS).group_by { |r| r["TABLE_NAME"] }
        { dialect: "mysql",
          tables: tables.map do |t|
            name = t["TABLE_NAME"]
            table_indexes = (indexes[name] || []).group_by { |r| r["INDEX_NAME"] }.map { |n, parts| index(n, parts) }
            primary = table_indexes.find { |i| i[:primary] }
            { name: name, rows: t["TABLE_ROWS"]&.to_i, size_bytes: t["SIZE"]&.to_i,
              columns: (columns[name] || []).map { |c| column(c) },
              primary_key: primary ? primary[:keys].map { |k| k[:column] } : [],
              indexes: table_indexes,
              foreign_keys: (fks[name] || []).group_by { |r| r["CONSTRAINT_NAME"] }.map { |n, parts| foreign_key(n, parts) } }
          end }
      end

      def rows(connection, sql)
        result = connection.exec_query(sql, "SCHEMA")
        # information_schema column names come back in the server's case.
        result.to_a.map { |row| row.transform_keys(&:upcase) }
      end

      def column(row)
        { name: row["COLUMN_NAME"], type: row["COLUMN_TYPE"], null: row["IS_NULLABLE"] == "YES",
          default: row["COLUMN_DEFAULT"] }
      end

      def index(name, parts)
        first = parts.first
        keys = parts.map do |p|
          expression = p["EXPRESSION"]
          expression ||= "#{p['COLUMN_NAME']}(#{p['SUB_PART']})" if p["SUB_PART"]
          { column: expression ? nil : p["COLUMN_NAME"], expression: expression, opclass: nil,
            order: p["COLLATION"] == "D" ? "desc" : "asc" }
        end
        { name: name, unique: first["NON_UNIQUE"].to_i.zero?, primary: name == "PRIMARY", constraint: false,
          method: first["INDEX_TYPE"].to_s.downcase, where: nil, keys: keys, include: [], scans: nil,
          size_bytes: nil }
      end

      def foreign_key(name, parts)
        { name: name, columns: parts.map { |p| p["COLUMN_NAME"] }, to_table: parts.first["REFERENCED_TABLE_NAME"],
          to_columns: parts.map { |p| p["REFERENCED_COLUMN_NAME"] },
          on_delete: parts.first["DELETE_RULE"].to_s.downcase.tr(" ", "_") }
      end
    end
  end
end
