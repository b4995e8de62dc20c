# frozen_string_literal: true

module Api
  module V1
    # The mobile API. Every request is logged to api_request_logs, which
    # nothing ever cleans up.
    class BaseController < ActionController::API
      around_action :log_request

      private

      def current_user
        @current_user ||= User.find(params.fetch(:user_id) { User.minimum(:id) })
      end

      def log_request
        started = Process.clock_gettime(Process::CLOCK_MONOTONIC)
        yield
      ensure
        ApiRequestLog.create!(user_id: @current_user&.id, path: request.path, status: response.status,
                              duration_ms: (Process.clock_gettime(Process::CLOCK_MONOTONIC) - started) * 1000)
      end
    end
  end
end
