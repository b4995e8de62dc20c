# frozen_string_literal: true

module VirtualTrainerOptimizer
  module External
    # Prepended to Net::HTTP: times #request and records the call in the
    # current unit of work. Fail-open: a capture error is counted
    # (VirtualTrainerOptimizer.internal_error), never raised; the app's own
    # exception is recorded by class name and re-raised untouched.
    module NetHttp
      def request(req, body = nil, &block)
        # An unstarted connection starts itself and calls #request again:
        # the inner call records.
        scope = started? && External.recording_scope
        return super unless scope

        started_ms = External.monotonic_ms
        response = nil
        error = nil
        begin
          response = super
        rescue StandardError => e
          error = e
          raise
        ensure
          NetHttp.record(self, scope, req, body, response, error, started_ms)
        end
      end

      class << self
        def record(http, scope, req, body, response, error, started_ms)
          duration_ms = External.monotonic_ms - started_ms
          path = External.path_template(req.path)
          sent = body || req.body
          call = { host: http.address.to_s, method: req.method.to_s, path: path, at_ms: started_ms,
                   status: response&.code&.to_i, duration_ms: duration_ms.round(3),
                   request_bytes: sent.is_a?(String) ? sent.bytesize : req.content_length,
                   response_bytes: response_bytes(response), timeout_s: http.read_timeout&.to_f,
                   retries: 0, error: error&.class&.name, location: External.location }
          call.merge!(openai(sent, response)) if External.openai_path?(path)
          scope.record_external(call)
        rescue StandardError => e
          VirtualTrainerOptimizer.internal_error(e)
        end

        private

        def response_bytes(response)
          return nil unless response

          body = response.body
          body.is_a?(String) ? body.bytesize : response.content_length
        end

        # Model, usage and prompt fingerprint; both bodies stay here.
        def openai(sent, response)
          fields = { prompt_fingerprint: External.prompt_fingerprint(sent) }
          return fields unless response && response["content-type"].to_s.include?("json")

          External.usage_of(response.body).merge(fields)
        end
      end
    end
  end
end
