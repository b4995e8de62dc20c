# frozen_string_literal: true

module VirtualTrainerOptimizer
  module External
    # A finished unit's own outbound calls as the workload sinks keep them
    # (JSON lines, Redis) and the report reads them back: one scope run in
    # the core's external-analysis input shape. Calls adopted from nested
    # units stay with those units, so no call is counted twice.
    module Workload
      # Scope runs the report reads (and Redis keeps) at most: the newest.
      MAX_SCOPES = 10_000

      module_function

      # {kind:, name:, elapsed_ms:, calls: [...]} of a request or job Result
      # that made calls itself, else nil.
      def scope_of(result)
        return nil if result.kind == :scan

        calls = result.external_calls.select { |c| c.scope_kind == result.kind && c.scope_name == result.name }
        return nil if calls.empty?

        { kind: result.kind.to_s, name: result.name.to_s, elapsed_ms: result.elapsed_ms.to_f.round(3),
          calls: calls.map { |c| c.to_h.slice(*Analysis::CORE_FIELDS) } }
      end

      # A scope read back from JSON (String keys), checked enough that one
      # bad line cannot make the core refuse the whole report; nil otherwise.
      def read(row)
        return nil unless row.is_a?(Hash) && %w[request job].include?(row["kind"]) && row["calls"].is_a?(Array)

        { kind: row["kind"], name: row["name"].to_s, elapsed_ms: row["elapsed_ms"].is_a?(Numeric) ? row["elapsed_ms"] : nil,
          calls: row["calls"].select { |c| c.is_a?(Hash) && c["host"].is_a?(String) } }
      end
    end
  end
end
