# frozen_string_literal: true

module VirtualTrainerOptimizer
  module External
    # `request.openai` events of apps' own clients:
    #
    #   ActiveSupport::Notifications.instrument("request.openai", host:, path:, method:, status:,
    #     duration_ms:, model:, usage: { prompt_tokens:, ... }, prompt_fingerprint:)
    #
    # recorded like a Net::HTTP call. A client that sends through Net::HTTP
    # inside the instrument block is recorded once: the event replaces the
    # calls to its host and path captured since the event began.
    module Notifications
      EVENT = "request.openai"

      class << self
        def subscribe!
          require "active_support/notifications"
          notifications = ActiveSupport::Notifications
          if notifications.respond_to?(:monotonic_subscribe)
            notifications.monotonic_subscribe(EVENT) { |*args| safely(args, monotonic: true) }
          else
            notifications.subscribe(EVENT) { |*args| safely(args, monotonic: false) }
          end
        end

        def record(start, finish, payload, monotonic:)
          scope = External.recording_scope
          return unless scope && payload.is_a?(Hash)

          elapsed_ms = ((finish - start) * 1000.0).round(3)
          usage = payload[:usage].is_a?(Hash) ? External.tokens(payload[:usage]) : {}
          path = External.path_template(payload[:path])
          call = { host: payload[:host].to_s, method: (payload[:method] || "POST").to_s.upcase, path: path,
                   status: payload[:status]&.to_i, duration_ms: (payload[:duration_ms] || elapsed_ms).to_f,
                   model: payload[:model]&.to_s, prompt_fingerprint: payload[:prompt_fingerprint]&.to_s,
                   timeout_s: payload[:timeout_s]&.to_f, retries: payload[:retries].to_i,
                   error: payload[:exception]&.first || payload[:error]&.to_s, location: External.location }
          scope.record_external(call.merge(usage), replacing_since: monotonic ? start * 1000.0 : nil)
        end

        private

        def safely(args, monotonic:)
          _name, start, finish, _id, payload = args
          record(start, finish, payload, monotonic: monotonic)
        rescue StandardError => e
          VirtualTrainerOptimizer.internal_error(e)
        end
      end
    end
  end
end
