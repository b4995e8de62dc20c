# frozen_string_literal: true

require "json"
require_relative "fingerprint_shape"

module VirtualTrainerOptimizer
  module Report
    # The workload of the JSON-lines files the detector writes (JsonlSink):
    # units summed per kind + name, fingerprints summed across units with the
    # units that ran them, findings once per kind + fingerprint + location
    # with the number of units they were seen in, the outbound calls of each
    # request or job run (the newest External::Workload::MAX_SCOPES), and the
    # window the lines cover. Lines that are not JSON (a torn write) are
    # counted and skipped.
    class JsonlWorkload
      attr_reader :skipped

      def initialize(paths)
        @paths = Array(paths).map(&:to_s)
        missing = @paths.reject { |p| File.file?(p) }
        raise ArgumentError, "no JSON-lines workload file at #{missing.join(', ')}" if missing.any? || @paths.empty?

        @units = {}
        @fingerprints = {}
        @findings = {}
        @external = []
        @skipped = 0
        @from = nil
        @to = nil
        @paths.each { |path| File.foreach(path) { |line| read(line) } }
      end

      # {source:, window_seconds:, units:, fingerprints:} and the findings,
      # as the core's report input wants them.
      def workload(dialect)
        { source: "jsonl", window_seconds: window, units: @units.values,
          fingerprints: @fingerprints.values.map { |f| finish_fingerprint(f, dialect) } }
      end

      def findings
        @findings.values
      end

      # The request and job runs that made outbound calls, oldest first.
      def external_scopes
        @external.last(External::Workload::MAX_SCOPES)
      end

      private

      def read(line)
        row = JSON.parse(line)
        return @skipped += 1 unless row.is_a?(Hash)

        stretch(row["since"])
        stretch(row["at"])
        case row["type"]
        when "unit" then unit(row)
        when "finding" then finding(row)
        when "external" then external(row)
        end
      rescue JSON::ParserError
        @skipped += 1
      end

      def stretch(time)
        return unless time.is_a?(Numeric)

        @from = time if @from.nil? || time < @from
        @to = time if @to.nil? || time > @to
      end

      def window
        @from && @to ? (@to - @from).round(3) : 0.0
      end

      def unit(row)
        key = [row["kind"].to_s, row["name"].to_s]
        unit = @units[key] ||= { kind: key[0], name: key[1], count: 0, queries: 0, db_ms: 0.0, elapsed_ms: 0.0,
                                 max_elapsed_ms: 0.0, view_ms: 0.0, method: nil, queue: nil }
        unit[:count] += row["count"].to_i
        unit[:queries] += row["queries"].to_i
        %i[db_ms elapsed_ms view_ms].each { |k| unit[k] += row[k.to_s].to_f }
        unit[:max_elapsed_ms] = [unit[:max_elapsed_ms], row["max_elapsed_ms"].to_f].max
        unit[:method] ||= row["method"]
        unit[:queue] ||= row["queue"]
        Array(row["fingerprints"]).each { |f| fingerprint(f, unit) if f.is_a?(Hash) }
      end

      def external(row)
        scope = External::Workload.read(row)
        return @skipped += 1 unless scope

        @external << scope
        @external.shift(@external.size - External::Workload::MAX_SCOPES) if @external.size > 2 * External::Workload::MAX_SCOPES
      end

      def fingerprint(data, unit)
        entry = @fingerprints[data["fingerprint"]] ||= { fingerprint: data["fingerprint"], sql: data["sql"], calls: 0,
                                                          total_ms: 0.0, units: {}, call_sites: [] }
        calls = data["count"].to_i
        ms = data["total_ms"].to_f
        entry[:calls] += calls
        entry[:total_ms] += ms
        per_unit = entry[:units][[unit[:kind], unit[:name]]] ||= { kind: unit[:kind], name: unit[:name], calls: 0,
                                                                    total_ms: 0.0 }
        per_unit[:calls] += calls
        per_unit[:total_ms] += ms
      end

      def finding(row)
        key = [row["kind"], row["fingerprint"], row["location"]]
        entry = @findings[key]
        if entry
          entry[:occurrences] += 1
          entry[:count] = [entry[:count], row["count"].to_i].max
          entry[:total_ms] = [entry[:total_ms], row["total_ms"].to_f].max
          entry[:max_ms] = [entry[:max_ms].to_f, row["max_ms"].to_f].max
        else
          @findings[key] = {
            kind: row["kind"], fingerprint: row["fingerprint"], sql: row["sql"], count: row["count"].to_i,
            occurrences: 1, location: row["location"], suggestion: row["suggestion"], priority: row["priority"],
            total_ms: row["total_ms"].to_f, max_ms: row["max_ms"], scope_kind: row["scope_kind"],
            scope_name: row["scope_name"], table: row["table"], column: row["column"]
          }
        end
      end

      # The statement, tables and call sites (FingerprintShape).
      def finish_fingerprint(entry, _dialect)
        FingerprintShape.finish(entry, @findings.values)
      end
    end
  end
end
