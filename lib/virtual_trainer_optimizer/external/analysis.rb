# frozen_string_literal: true

require "json"
require "yaml"

module VirtualTrainerOptimizer
  module External
    # A finished unit's calls through the core (Native.external_analyze):
    # costs from the dated price table and the external-call findings.
    module Analysis
      PRICES = File.expand_path("../data/openai_prices.yml", __dir__)
      OVERRIDE = File.join("config", "vto_openai_prices.yml")
      DEFAULT_REQUEST_BUDGET_MS = 500.0
      # The fields the core reads; everything else (at_ms) stays here.
      CORE_FIELDS = %i[host method path status duration_ms request_bytes response_bytes retries timeout_s model
                       prompt_tokens completion_tokens total_tokens prompt_fingerprint error location].freeze

      @lock = Mutex.new
      @prices = {}

      class << self
        # [Array of ExternalCall, Array of Finding] of one unit of work's calls.
        # When the core fails, the calls are kept without costs and findings.
        def run(scope, calls, elapsed_ms)
          report = begin
            JSON.parse(Native.external_analyze(JSON.generate(input(scope, calls, elapsed_ms))))
          rescue StandardError => e
            VirtualTrainerOptimizer.internal_error(e)
            { "calls" => [], "findings" => [] }
          end
          costs = report["calls"].map { |c| c["cost_usd"] }
          external_calls = calls.each_with_index.map { |call, i| ExternalCall.from(call, costs[i], scope) }
          findings = report["findings"].map { |data| Finding.external(data, scope, elapsed_ms) }
          findings.reject!(&:allowlisted?)
          [external_calls, findings]
        end

        def input(scope, calls, elapsed_ms)
          { scopes: [{ kind: scope.kind.to_s, name: scope.name.to_s, elapsed_ms: elapsed_ms,
                       calls: calls.map { |c| c.slice(*CORE_FIELDS) } }],
            prices: prices, options: options(scope) }
        end

        # The gem's table, overridden per model by config/vto_openai_prices.yml
        # in the app root (read once per root).
        def prices(root = VirtualTrainerOptimizer.config.app_root_path)
          @lock.synchronize do
            @prices[root] ||= begin
              base = load_yaml(PRICES)
              over = load_yaml(File.join(root, OVERRIDE))
              base.merge(over.reject { |k, _| k == "models" })
                  .merge("models" => (base["models"] || {}).merge(over["models"] || {}))
            end
          end
        end

        def reset!
          @lock.synchronize { @prices = {} }
        end

        private

        # A request's budget is what its external time is held to; a job's is
        # its expected run, which a call's timeout must not outlive. Looked up
        # as the detector looks budgets up ("Controller#action", then
        # "Controller"; a job by its class) but only where one is stated: a
        # job's timeout is compared with its run only when that run is known.
        def options(scope)
          budget = VirtualTrainerOptimizer.config.budget_for(*scope.name.to_s.split("#", 2), fallback: nil)
          budget = budget.is_a?(Numeric) ? budget.to_f : nil
          return { request_budget_ms: budget || DEFAULT_REQUEST_BUDGET_MS } unless scope.kind == :job

          { request_budget_ms: DEFAULT_REQUEST_BUDGET_MS, expected_job_ms: budget }
        end

        def load_yaml(path)
          return {} unless File.file?(path)

          data = YAML.safe_load(File.read(path), aliases: false)
          data.is_a?(Hash) ? data.transform_keys(&:to_s) : {}
        end
      end
    end
  end
end
