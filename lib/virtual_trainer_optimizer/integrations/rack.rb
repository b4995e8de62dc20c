# frozen_string_literal: true

module VirtualTrainerOptimizer
  module Integrations
    # Rack middleware: every request (HTML, API-only, Turbo) is a unit of work.
    # The controller subscriber names it and sets its budget once routed.
    class Rack
      def initialize(app)
        @app = app
      end

      def call(env)
        config = VirtualTrainerOptimizer.config
        return @app.call(env) unless config.enabled

        name = "#{env['REQUEST_METHOD']} #{env['PATH_INFO']}"
        budget = config.budget_for(name, fallback: config.page_budget_ms)
        response, = Scope.run(:request, name, budget_ms: budget, sampled: false) { @app.call(env) }
        response
      end
    end
  end
end
