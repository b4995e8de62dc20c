# frozen_string_literal: true

require "json"
require_relative "../generic_plan"

module VirtualTrainerOptimizer
  module Indexes
    # Asks PostgreSQL's planner whether a suggested index would be used: each
    # served query's generic plan (GenericPlan: no values needed) before and
    # after the index exists — hypothetically with HypoPG when the
    # extension is available, else created inside a transaction that is
    # rolled back (only where `real_indexes` allows it: test and development
    # databases). The core compares the plans.
    class Verification
      QUERIES_PER_SUGGESTION = 5
      # An index the planner uses for less than this share of a query's cost
      # is not worth its writes.
      MIN_IMPROVEMENT = 0.1

      # `real_indexes`: allow CREATE INDEX inside a rolled-back transaction
      # when HypoPG is missing (it locks the table while it runs).
      # `using`: :hypopg or :transaction to insist on one way (nil: HypoPG
      # when available).
      def initialize(connection, real_indexes:, using: nil)
        @connection = connection
        @raw = connection.raw_connection
        @method = case using
                  when :hypopg then hypopg? ? :hypopg : nil
                  when :transaction then real_indexes ? :transaction : nil
                  else hypopg? ? :hypopg : (real_indexes ? :transaction : nil)
                  end
      end

      # :hypopg, :transaction, or nil (the planner cannot be asked).
      attr_reader :method

      # Sets cost_before / cost_after / verified on each suggestion with
      # served queries; returns the suggestions the planner would use for at
      # least one of them at MIN_IMPROVEMENT of its cost or more (and those it
      # could not judge).
      def verify(suggestions)
        return suggestions unless @method

        suggestions.select do |s|
          queries = Array(s.queries).sort_by { |q| -q["total_ms"].to_f }.first(QUERIES_PER_SUGGESTION)
          next true if queries.empty? || s.kind == :redundant_index || s.kind == :unused_index

          judge(s, queries)
        end
      end

      private

      def hypopg?
        return false unless GenericPlan.postgresql?(@connection)
        return true if @raw.exec("SELECT 1 FROM pg_extension WHERE extname = 'hypopg'").ntuples.positive?
        return false if @raw.exec("SELECT 1 FROM pg_available_extensions WHERE name = 'hypopg'").ntuples.zero?

        # Creating it may be refused (privileges); a savepoint keeps an open
        # transaction usable.
        nested = @connection.transaction_open?
        @raw.exec("SAVEPOINT vto_hypopg") if nested
        begin
          @raw.exec("CREATE EXTENSION IF NOT EXISTS hypopg")
          @raw.exec("RELEASE SAVEPOINT vto_hypopg") if nested
          true
        rescue PG::Error
          @raw.exec("ROLLBACK TO SAVEPOINT vto_hypopg") if nested
          false
        end
      end

      # True unless the planner plans every served query the same without it.
      def judge(suggestion, queries)
        comparisons = GenericPlan.within(@connection) do |raw|
          before = queries.map { |q| GenericPlan.explain(raw, q["sql"]) }
          name = create(suggestion)
          after = queries.map { |q| GenericPlan.explain(raw, q["sql"]) }
          before.zip(after).filter_map do |b, a|
            next unless b && a

            comparison = JSON.parse(Native.plan_compare(b, a))
            comparison["index_used"] = comparison["uses"].any? { |used| used == name || used.end_with?(name) }
            comparison
          end
        end
        @raw.exec("SELECT hypopg_reset()") if @method == :hypopg
        return true if comparisons.nil? || comparisons.empty?

        suggestion.verification = comparisons
        comparisons.any? { |c| c["index_used"] && c["improvement"].to_f >= MIN_IMPROVEMENT }
      end

      # The name the planner will show for the new index.
      def create(suggestion)
        statement = suggestion.sql.sub(/\ACREATE INDEX CONCURRENTLY /i, "CREATE INDEX ").chomp(";")
        if @method == :hypopg
          @raw.exec_params("SELECT indexname FROM hypopg_create_index($1)", [statement]).getvalue(0, 0)
        else
          @raw.exec(statement)
          suggestion.index_name
        end
      end
    end
  end
end
