# frozen_string_literal: true

require "json"
require_relative "introspection"

module VirtualTrainerOptimizer
  # PostgreSQL plans for normalized SQL, which has `?` where the values were:
  # the statement is prepared with $n parameters and explained with
  # plan_cache_mode = force_generic_plan, so the planner needs no values.
  # Everything runs in a transaction (a savepoint inside an open one) that is
  # rolled back, on the raw connection: nothing reaches the app's query log
  # or the detector.
  module GenericPlan
    NAME = "vto_generic_plan"

    module_function

    def postgresql?(connection)
      Introspection.dialect_of(connection) == :postgresql
    end

    # Yields the raw connection inside the rolled-back transaction; the
    # block's value, or nil when the database refused something.
    def within(connection)
      raw = connection.raw_connection
      nested = connection.transaction_open?
      return nil if nested && raw.transaction_status == PG::PQTRANS_INERROR

      raw.exec(nested ? "SAVEPOINT vto_generic_plan" : "BEGIN")
      begin
        raw.exec("SET LOCAL plan_cache_mode = force_generic_plan")
        yield raw
      rescue PG::Error => e
        VirtualTrainerOptimizer.logger&.debug("[virtual_trainer_optimizer] EXPLAIN skipped: #{e.message}")
        nil
      ensure
        raw.exec(nested ? "ROLLBACK TO SAVEPOINT vto_generic_plan" : "ROLLBACK")
        raw.exec("RELEASE SAVEPOINT vto_generic_plan") if nested
      end
    end

    # EXPLAIN (FORMAT JSON) text of the statement's generic plan, inside
    # `within`; nil when PostgreSQL cannot prepare it (a parameter type it
    # cannot infer, a jsonb `?` operator).
    def explain(raw, sql)
      return nil if sql.match?(/\?[|&]/)

      n = 0
      prepared = sql.gsub("?") { "$#{n += 1}" }
      raw.exec("SAVEPOINT vto_explain")
      raw.exec("PREPARE #{NAME} AS #{prepared}")
      args = n.zero? ? "" : "(#{Array.new(n, 'NULL').join(', ')})"
      plan = raw.exec("EXPLAIN (FORMAT JSON) EXECUTE #{NAME}#{args}").getvalue(0, 0)
      raw.exec("DEALLOCATE #{NAME}")
      raw.exec("RELEASE SAVEPOINT vto_explain")
      plan
    rescue PG::Error
      raw.exec("ROLLBACK TO SAVEPOINT vto_explain")
      # Prepared statements outlive a rollback.
      raw.exec("DEALLOCATE #{NAME}") if raw.exec("SELECT 1 FROM pg_prepared_statements WHERE name = '#{NAME}'").ntuples.positive?
      nil
    end

    # The core's analysis of one statement's generic plan (a Hash), or nil.
    # A plain EXPLAIN estimates the rows left after a filter, not the
    # table's size: the sequentially scanned tables' sizes (pg_class
    # estimates) are read and given to the core.
    def analyze(connection, sql)
      return nil unless postgresql?(connection)

      plan, rows = within(connection) do |raw|
        text = explain(raw, sql)
        [text, text && table_rows(raw, text)]
      end
      plan && JSON.parse(Native.plan_analyze(plan, JSON.generate(table_rows: rows)))
    end

    def table_rows(raw, plan)
      scanned = JSON.parse(Native.plan_analyze(plan, "{}"))["seq_scans"].map { |s| s["relation"] }.compact.uniq
      return {} if scanned.empty?

      raw.exec_params("SELECT relname, reltuples::bigint FROM pg_class WHERE relkind IN ('r', 'p') " \
                      "AND relname = ANY ($1::text[]) AND reltuples >= 0",
                      [PG::TextEncoder::Array.new.encode(scanned)])
         .to_a.to_h { |r| [r["relname"], r["reltuples"].to_i] }
    end
  end
end
