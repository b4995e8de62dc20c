# frozen_string_literal: true

module VirtualTrainerOptimizer
  module Integrations
    # `process_action.action_controller`: names the current request's unit of
    # work after its controller and action, picks its budget (API controllers
    # and JSON requests get request_budget_ms) and keeps its view time.
    class ActionController
      def self.install!
        ActiveSupport::Notifications.subscribe("process_action.action_controller", new)
      end

      def call(_name, _started, _finished, _id, payload)
        scope = Scope.current
        return unless scope&.kind == :request

        config = VirtualTrainerOptimizer.config
        controller = payload[:controller].to_s
        action = payload[:action].to_s
        scope.name = "#{controller}##{action}"
        scope.budget_ms = config.budget_for(controller, action, fallback: fallback_budget(config, controller, payload))
        scope.view_ms = payload[:view_runtime]
      rescue StandardError => e
        VirtualTrainerOptimizer.internal_error(e)
      end

      private

      def fallback_budget(config, controller, payload)
        api = defined?(::ActionController::API) && (Object.const_get(controller) < ::ActionController::API)
        api || payload[:format].to_s == "json" ? config.request_budget_ms : config.page_budget_ms
      rescue NameError
        config.page_budget_ms
      end
    end
  end
end
