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
        response = nil
        Scope.run(:request, name, budget_ms: budget) do |scope|
          scope&.detail = env["REQUEST_METHOD"]
          response = @app.call(env)
        end
        response
      rescue FindingError
        # raise_on: the response is dropped, so close its body, which is what
        # completes Rails' executor (query cache off, connection returned).
        response[2].close if response && response[2].respond_to?(:close)
        raise
      end
    end
  end
end
