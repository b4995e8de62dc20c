# frozen_string_literal: true

module VirtualTrainerOptimizer
  module Report
    # The workload PostgreSQL recorded itself in pg_stat_statements: every
    # process and client of the current database, at no cost to the app.
    #
    #   PgStatStatementsWorkload.new(ActiveRecord::Base.connection, min_calls: 1, limit: 5000)
    #
    # `limit` caps the rows read, heaviest total time first; `min_calls`
    # drops fingerprints called less often.
    #
    # The texts' `$n` placeholders are binds to SQL.normalize/fingerprint, and
    # the database replaces only constants the normalizer replaces too (TRUE,
    # NULL, `date '...'`, -5 included): a statement gets the fingerprint the
    # in-process detector gives the SQL Rails sent. Rows with one fingerprint
    # (one per user, IN-list length, constant type) are merged. Limits: one
    # queryid keeps its first text, so spellings only the normalizer tells
    # apart (identifier case) share a fingerprint; times are the server's
    # execution (no planning, no network); call sites and units are unknown.
    # Utility statements (BEGIN, SET, SHOW...), catalog reads and the
    # extension's own are left out.
    class PgStatStatementsWorkload
      FIX = "pg_stat_statements must be preloaded (shared_preload_libraries = 'pg_stat_statements' in " \
            "postgresql.conf, or ALTER SYSTEM SET shared_preload_libraries, then a restart) and created in " \
            "this database (CREATE EXTENSION pg_stat_statements)"
      KEPT = %w[select insert update delete with merge values table].freeze
      CATALOG = /\b(?:pg_catalog|information_schema|pg_stat_statements\w*)\b/i.freeze

      # How many statements were left out: utility, catalog, unreadable
      # (another user's text, without pg_read_all_stats), under min_calls.
      attr_reader :skipped

      def initialize(connection, min_calls: 1, limit: 5000)
        [[:min_calls, min_calls], [:limit, limit]].each do |name, value|
          next if value.is_a?(Integer) && value.positive?

          raise ArgumentError, "#{name} must be a positive Integer, got #{value.inspect}"
        end
        unless connection.adapter_name.match?(/postg/i)
          raise ArgumentError, "pg_stat_statements is PostgreSQL's; this connection is #{connection.adapter_name}"
        end

        @connection = connection
        @skipped = 0
        # A savepoint inside the app's transaction: a refused read leaves it usable.
        connection.transaction(requires_new: true) do
          merged = merge(read(view_columns, limit))
          @statements = merged.select { |s| s[:calls] >= min_calls }
          @skipped += merged.size - @statements.size
          @window = window
        end
      end

      # {source:, window_seconds:, units:, fingerprints:} as the core's report
      # input wants them. window_seconds: since the statistics were last reset
      # as a whole (pg_stat_statements_info, PostgreSQL 14+; a reset of one
      # database or statement does not move it), 0 (unknown) before 14.
      def workload(_dialect = nil)
        { source: "pg_stat_statements", window_seconds: @window, units: [],
          fingerprints: @statements.map do |s|
            s.slice(:fingerprint, :sql, :calls, :total_ms, :statement, :tables, :rows, :max_ms)
             .merge(total_ms: s[:total_ms].round(3), max_ms: s[:max_ms]&.round(3), units: [], call_sites: [])
          end }
      end

      # The database sees no outbound HTTP calls.
      def external_scopes
        []
      end

      # One fingerprint per merged statement, heaviest first: {fingerprint:,
      # sql:, calls:, total_ms:, max_ms:, rows:, statement:, tables:}.
      attr_reader :statements

      # Slow-query findings for statements whose mean time exceeds
      # config.slow_query_ms, shaped as the JSON-lines findings: each call is
      # an occurrence (count 1, total_ms its mean), so total_ms * occurrences
      # is the statement's time; no call site or unit of work. None when
      # slow_query_ms is nil (off).
      def findings
        threshold = VirtualTrainerOptimizer.config.slow_query_ms
        return [] if threshold.nil?

        @statements.filter_map do |s|
          mean = s[:total_ms] / s[:calls]
          next if mean <= threshold

          { kind: "slow_query", fingerprint: s[:fingerprint], sql: s[:sql], count: 1, occurrences: s[:calls],
            location: nil, suggestion: suggestion(s, mean), priority: priority(mean), total_ms: mean.round(3),
            max_ms: s[:max_ms]&.round(3), scope_kind: nil, scope_name: nil, table: s[:tables].first, column: nil }
        end
      end

      private

      # The view's columns, which name the version (total_exec_time from 13).
      def view_columns
        columns = select_all(<<~SQL).map { |r| r["attname"] }
          SELECT attname FROM pg_catalog.pg_attribute
          WHERE attrelid = pg_catalog.to_regclass('pg_stat_statements') AND attnum > 0 AND NOT attisdropped
        SQL
        raise ArgumentError, "no pg_stat_statements view in this database: #{FIX}" if columns.empty?

        columns
      end

      def read(columns, limit)
        time = columns.include?("total_exec_time") ? "total_exec_time" : "total_time"
        max = columns.include?("max_exec_time") ? "max_exec_time" : "max_time"
        # With pg_stat_statements.track = all, nested statements would count twice.
        toplevel = columns.include?("toplevel") ? "AND toplevel" : ""
        select_all(<<~SQL)
          SELECT query, calls, #{time} AS total_ms, #{max} AS max_ms, rows FROM pg_stat_statements
          WHERE dbid = (SELECT oid FROM pg_catalog.pg_database WHERE datname = current_database())
            AND calls > 0 #{toplevel}
          ORDER BY #{time} DESC LIMIT #{Integer(limit)}
        SQL
      rescue ActiveRecord::StatementInvalid => e
        raise unless e.message.include?("shared_preload_libraries")

        raise ArgumentError, "pg_stat_statements is not loaded: #{FIX}"
      end

      def merge(rows)
        rows.each_with_object({}) do |row, by_fp|
          text = row["query"].to_s
          next @skipped += 1 if text.start_with?("<insufficient privilege>") || text.match?(CATALOG)

          sql = SQL.normalize(text, dialect: :postgresql)
          keyword = sql[/\A[\s(]*(\w+)/, 1].to_s.downcase
          next @skipped += 1 unless KEPT.include?(keyword)

          fp = SQL.fingerprint(text, dialect: :postgresql)
          entry = by_fp[fp] ||= shape(text, sql, keyword).merge(fingerprint: fp, calls: 0, total_ms: 0.0, rows: 0)
          next @skipped += 1 if entry[:catalog]

          entry[:calls] += row["calls"].to_i
          entry[:total_ms] += row["total_ms"].to_f
          entry[:rows] += row["rows"].to_i
          entry[:max_ms] = [entry[:max_ms], row["max_ms"]&.to_f].compact.max
        end.values.reject { |e| e[:catalog] }.map { |e| e.except(:catalog) }
      end

      # Statement kind and tables from PostgreSQL's own text (its `$n`
      # placeholders parse as the dialect's binds).
      def shape(text, sql, keyword)
        parsed = begin
          SQL.analyze(text, dialect: :postgresql)
        rescue VirtualTrainerOptimizer::Error
          nil
        end
        kind = parsed ? parsed["kind"] : keyword
        tables = parsed ? parsed["tables"].map { |t| t["name"] }.uniq : []
        { sql: sql, statement: %w[select insert update delete].include?(kind) ? kind : "other", tables: tables,
          catalog: tables.any? { |t| t.start_with?("pg_") } || (tables.empty? && sql.match?(/\bpg_\w+\s*\(/i)) }
      end

      def window
        info = select_all("SELECT pg_catalog.to_regclass('pg_stat_statements_info') IS NOT NULL AS info").first["info"]
        return 0.0 unless info

        age = select_all("SELECT extract(epoch FROM now() - stats_reset) AS s FROM pg_stat_statements_info").first
        age["s"].to_f.round(3)
      end

      def suggestion(statement, mean)
        "#{format('%.1f', mean)} ms on average over #{statement[:calls]} calls (up to " \
          "#{format('%.1f', statement[:max_ms].to_f)} ms, #{statement[:rows] / statement[:calls]} rows each): " \
          "check its plan with EXPLAIN ANALYZE; Indexes.analyze(workload: :pg_stat_statements) derives indexes from it"
      end

      # The detector's ladder (Priority::of) for one execution's time.
      def priority(mean)
        if mean >= 500 then "critical"
        elsif mean >= 100 then "high"
        elsif mean >= 20 then "medium"
        else "low"
        end
      end

      # Named SCHEMA, as Rails names its own catalog reads, so the detector
      # does not count them as the app's queries.
      def select_all(sql)
        @connection.select_all(sql, "SCHEMA").to_a
      end
    end
  end
end
