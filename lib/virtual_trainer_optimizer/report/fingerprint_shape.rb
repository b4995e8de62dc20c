# frozen_string_literal: true

module VirtualTrainerOptimizer
  module Report
    # What every workload reader (JSON lines, Redis) adds to a summed
    # fingerprint: its statement and tables, and the call sites its findings
    # name. Shared so the sources give the core the same shape.
    module FingerprintShape
      STATEMENTS = %w[select insert update delete].freeze

      module_function

      # `entry`: {fingerprint:, sql:, calls:, total_ms:, units: {key => unit}, ...};
      # `findings`: the reader's finding Hashes. The normalized SQL is parsed
      # with SQLite's dialect, which reads `?` placeholders.
      def finish(entry, findings)
        shape = begin
          SQL.analyze(entry[:sql].to_s, dialect: :sqlite)
        rescue VirtualTrainerOptimizer::Error
          nil
        end
        statement = shape ? shape["kind"] : entry[:sql].to_s[/\A\s*(\w+)/, 1].to_s.downcase
        sites = findings.select { |f| f[:fingerprint] == entry[:fingerprint] && f[:location] }
                        .map { |f| f[:location] }.uniq
        entry.merge(statement: STATEMENTS.include?(statement) ? statement : "other",
                    tables: shape ? shape["tables"].map { |t| t["name"] }.uniq : [],
                    units: entry[:units].values, call_sites: sites, total_ms: entry[:total_ms].round(3))
      end
    end
  end
end
