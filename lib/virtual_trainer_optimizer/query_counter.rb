# frozen_string_literal: true

module VirtualTrainerOptimizer
  # Collects the normalized SQL of the queries a block sends, for the query
  # count matchers and assertions. Schema queries, transaction control and
  # query-cache hits are left out unless `including_cached`.
  module QueryCounter
    SKIPPED = %w[SCHEMA TRANSACTION].freeze
    TRANSACTION = /\A\s*(?:BEGIN|COMMIT|ROLLBACK|SAVEPOINT|RELEASE)\b/i.freeze

    module_function

    def collect(including_cached: false)
      queries = []
      dialect = VirtualTrainerOptimizer.dialect
      callback = lambda do |*, payload|
        next if SKIPPED.include?(payload[:name]) || TRANSACTION.match?(payload[:sql].to_s)
        next if (payload[:cached] || payload[:name] == "CACHE") && !including_cached

        queries << SQL.normalize(payload[:sql].to_s, dialect: dialect)
      end
      ActiveSupport::Notifications.subscribed(callback, "sql.active_record") { yield }
      queries
    end

    # A Regexp, or a String contained in the normalized SQL.
    def matches?(pattern, sql)
      pattern.is_a?(Regexp) ? pattern.match?(sql.to_s) : sql.to_s.include?(pattern.to_s)
    end

    # ":\n  3x SELECT ..." for a failure message ("" when there are none).
    def listing(queries)
      return "" if queries.empty?

      ":\n" + queries.tally.sort_by { |_, n| -n }.map { |sql, n| "  #{n}x #{sql}" }.join("\n")
    end

    # "expected no N+1 queries, got 2:\n  - ..." for a failure message.
    def findings_message(what, findings)
      "expected no #{what}, got #{findings.size}:\n#{findings.map { |f| "  - #{f.message}" }.join("\n")}"
    end
  end
end
