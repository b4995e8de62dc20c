# frozen_string_literal: true

module VirtualTrainerOptimizer
  # One outbound HTTP call of a unit of work, as Result#external_calls lists
  # it. `path` is a template (no query string, ids as :id); `cost_usd` is the
  # core's, from the price table (nil when the model has no price);
  # `location` the first app frame; `error` the exception's class name.
  ExternalCall = Struct.new(:host, :path, :method, :status, :duration_ms, :prompt_tokens, :completion_tokens,
                            :total_tokens, :cost_usd, :model, :prompt_fingerprint, :location, :error,
                            :request_bytes, :response_bytes, :timeout_s, :retries, :scope_kind, :scope_name,
                            keyword_init: true) do
    # From a recorded call Hash (Symbol keys) and the core's cost.
    def self.from(call, cost_usd, scope)
      new(**call.slice(*members), cost_usd: cost_usd, scope_kind: scope.kind, scope_name: scope.name)
    end
  end
end
