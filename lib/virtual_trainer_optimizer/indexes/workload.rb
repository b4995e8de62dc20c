# frozen_string_literal: true

require "json"
require "pathname"

module VirtualTrainerOptimizer
  module Indexes
    # The recorded workload the index advisor derives indexes from: one entry
    # per query fingerprint with its normalized SQL, count, total time, the
    # app call sites and units (actions, jobs) it came from, and whether it
    # was part of an N+1. Sources: a `scan` result, an Array of SQL strings,
    # the detector's JSON-lines file, or :pg_stat_statements (the database's
    # own totals, read through `connection`; a Report::PgStatStatementsWorkload
    # when its min_calls / limit matter).
    module Workload
      MAX_LOCATIONS = 5

      module_function

      def from(source, dialect:, connection: nil)
        case source
        when nil then []
        when Result then from_result(source)
        when Array then from_sql(source, dialect)
        when String, Pathname then from_jsonl(source.to_s)
        when :pg_stat_statements then from_pg_stat_statements(pg_stat_statements(connection))
        else
          return from_pg_stat_statements(source) if pg_stat_statements_reader?(source)

          raise ArgumentError, "workload must be a scan result, an Array of SQL strings or the path of the " \
                               "JSON-lines file, or :pg_stat_statements, got #{source.inspect[0, 80]}"
        end
      end

      # Loaded on use: it lives with the report's workload sources.
      def pg_stat_statements(connection)
        raise ArgumentError, "workload: :pg_stat_statements needs a connection: (the database is read)" unless connection

        require_relative "../report/pg_stat_statements_workload"
        Report::PgStatStatementsWorkload.new(connection)
      end

      def pg_stat_statements_reader?(source)
        defined?(Report::PgStatStatementsWorkload) && source.is_a?(Report::PgStatStatementsWorkload)
      end

      # The database's calls and execution time per fingerprint; no call
      # sites or units (the database does not know them).
      def from_pg_stat_statements(reader)
        entries = Entries.new
        reader.statements.each { |s| entries.add(s[:fingerprint], s[:sql], s[:calls], s[:total_ms], nil) }
        entries.to_a
      end

      def from_result(result)
        entries = Entries.new
        result.totals.each { |fp, count, ms, sql| entries.add(fp, sql, count, ms, result.name) }
        result.findings.each { |f| entries.finding(f.fingerprint, f.kind, f.location, f.scope_name) }
        entries.to_a
      end

      # Each String is one execution (0 ms: ranked by count).
      def from_sql(statements, dialect)
        entries = Entries.new
        statements.each do |sql|
          raise ArgumentError, "workload SQL must be Strings, got #{sql.class}" unless sql.is_a?(String)

          fp = SQL.fingerprint(sql, dialect: dialect)
          entries.add(fp, SQL.normalize(sql, dialect: dialect), 1, 0.0, nil)
        end
        entries.to_a
      end

      # The "unit" lines' per-fingerprint totals and the "finding" lines' N+1
      # flags and call sites. Lines that are not JSON (a torn write, another
      # format) are skipped.
      def from_jsonl(path)
        raise ArgumentError, "no JSON-lines workload file at #{path}" unless File.file?(path)

        entries = Entries.new
        File.foreach(path) do |line|
          row = begin
            JSON.parse(line)
          rescue JSON::ParserError
            next
          end
          next unless row.is_a?(Hash)

          case row["type"]
          when "unit"
            Array(row["fingerprints"]).each do |f|
              entries.add(f["fingerprint"], f["sql"], f["count"].to_i, f["total_ms"].to_f, row["name"])
            end
          when "finding"
            entries.finding(row["fingerprint"], row["kind"]&.to_sym, row["location"], row["scope_name"])
          end
        end
        entries.to_a
      end

      # Aggregates by fingerprint.
      class Entries
        def initialize
          @by_fp = {}
        end

        def add(fingerprint, sql, count, total_ms, source)
          return if fingerprint.nil? || sql.nil?

          e = entry(fingerprint)
          e[:sql] ||= sql
          e[:count] += count
          e[:total_ms] += total_ms
          e[:sources] << source if source && !e[:sources].include?(source) && e[:sources].size < MAX_LOCATIONS
        end

        def finding(fingerprint, kind, location, source)
          return if fingerprint.nil?

          e = entry(fingerprint)
          e[:n_plus_one] = true if kind == :n_plus_one
          e[:locations] << location if location && !e[:locations].include?(location) && e[:locations].size < MAX_LOCATIONS
          e[:sources] << source if source && !e[:sources].include?(source) && e[:sources].size < MAX_LOCATIONS
        end

        # Fingerprints seen only in findings have no SQL: nothing to index.
        def to_a
          @by_fp.values.select { |e| e[:sql] }.map { |e| e.merge(total_ms: e[:total_ms].round(3)) }
        end

        private

        def entry(fingerprint)
          @by_fp[fingerprint] ||= { fingerprint: fingerprint, sql: nil, count: 0, total_ms: 0.0, locations: [],
                                    sources: [], n_plus_one: false }
        end
      end
    end
  end
end
