# frozen_string_literal: true

module VirtualTrainerOptimizer
  module External
    # Prepended to Net::HTTP: times #request and records the call in the
    # current unit of work, with the attempts Net::HTTP itself made (it
    # retries an idempotent request once, `max_retries`, after a dropped
    # connection or a read timeout: each attempt begins a transport).
    # Fail-open: a capture error is counted (VirtualTrainerOptimizer.internal_error),
    # never raised; the app's own exception is recorded by class name and
    # re-raised untouched.
    module NetHttp
      def request(req, body = nil, &block)
        # An unstarted connection starts itself and calls #request again:
        # the inner call records.
        scope = started? && External.recording_scope
        return super unless scope

        started_ms = External.monotonic_ms
        response = nil
        error = nil
        @vto_attempts = 0
        begin
          # A streamed answer read in chunks is tapped for its last event's usage.
          tap = block && External.openai_path?(req.path.to_s.split("?", 2).first)
          response = tap ? super(req, body, &StreamTap.wrap(block)) : super
        rescue StandardError => e
          error = e
          raise
        ensure
          retries = @vto_attempts.to_i.positive? ? @vto_attempts - 1 : 0
          @vto_attempts = nil
          NetHttp.record(self, scope, req, body, response, error, started_ms, retries)
        end
      end

      # Called once per attempt by Net::HTTP#transport_request.
      private def begin_transport(req)
        @vto_attempts += 1 if @vto_attempts
        super
      end

      class << self
        def record(http, scope, req, body, response, error, started_ms, retries = 0)
          duration_ms = External.monotonic_ms - started_ms
          path = External.path_template(req.path)
          sent = body || req.body
          call = { host: http.address.to_s, method: req.method.to_s, path: path, at_ms: started_ms,
                   status: response&.code&.to_i, duration_ms: duration_ms.round(3),
                   request_bytes: sent.is_a?(String) ? sent.bytesize : req.content_length,
                   response_bytes: response_bytes(response), timeout_s: http.read_timeout&.to_f,
                   retries: retries, error: error&.class&.name, location: External.location }
          call.merge!(openai(sent, response)) if External.openai_path?(path)
          scope.record_external(call)
        rescue StandardError => e
          VirtualTrainerOptimizer.internal_error(e)
        end

        private

        def response_bytes(response)
          return nil unless response

          streamed = response.instance_variable_get(:@vto_bytes)
          return streamed if streamed

          body = response.body
          body.is_a?(String) ? body.bytesize : response.content_length
        end

        # Model, usage and prompt fingerprint; both bodies stay here.
        def openai(sent, response)
          fields = { prompt_fingerprint: External.prompt_fingerprint(sent) }
          type = response && response["content-type"].to_s
          if type&.include?("json")
            External.usage_of(response.body).merge(fields)
          elsif type&.include?("event-stream")
            tail = response.instance_variable_get(:@vto_tail) || (response.body if response.body.is_a?(String))
            External.stream_usage_of(tail).merge(fields)
          else
            fields
          end
        end
      end
    end
  end
end
