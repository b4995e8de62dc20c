# frozen_string_literal: true

require "json"

module VirtualTrainerOptimizer
  # Outbound HTTP calls made inside a unit of work (issue 9): Net::HTTP
  # (so Faraday's default adapter too) and `request.openai` notifications of
  # apps' own clients. Only figures are kept: host, method, a path template,
  # status, timings, sizes, model, token usage and a prompt fingerprint. No
  # body, header, query string or key is ever stored, logged or written.
  module External
    # Calls kept per unit of work (memory bound).
    MAX_CALLS = 1000
    # Responses parsed for model and usage at most this large.
    MAX_PARSED_BYTES = 4 << 20
    OPENAI_PATH = %r{/(?:chat/completions|completions|embeddings|responses)\z}.freeze
    UUID = /\A\h{8}-\h{4}-\h{4}-\h{4}-\h{12}\z/.freeze
    NUMERIC = /\A\d+(?:\.\w{1,5})?\z/.freeze
    # Hex digests, base64-ish tokens and provider ids (chatcmpl-..., thread_...):
    # long, with a digit. A token in a path (`/bot<token>/`) is folded too.
    OPAQUE = /\A(?=[^\/]*\d)[A-Za-z0-9_\-=+.:~]{16,}\z/.freeze
    HEX = /\A(?=[^\/]*\d)\h{8,}\z/.freeze

    autoload :NetHttp, File.expand_path("external/net_http", __dir__)
    autoload :Notifications, File.expand_path("external/notifications", __dir__)
    autoload :Analysis, File.expand_path("external/analysis", __dir__)
    autoload :Workload, File.expand_path("external/workload", __dir__)
    autoload :StreamTap, File.expand_path("external/stream_tap", __dir__)

    @lock = Mutex.new

    class << self
      # Prepends the Net::HTTP hook and subscribes to request.openai, once.
      def install!
        @lock.synchronize do
          return if @installed

          require "net/http"
          Net::HTTP.prepend(NetHttp) unless Net::HTTP <= NetHttp
          Notifications.subscribe!
          @installed = true
        end
      end

      # The innermost unit of work recording now (nil outside one or while paused).
      def recording_scope
        Thread.current[Scope::NATIVE] && Scope.current
      end

      # The path without its query string, ids folded to :id.
      def path_template(path)
        path = path.to_s.split(/[?#]/, 2).first.to_s
        path = "/#{path}" unless path.start_with?("/")
        path.split("/", -1).map { |seg| id_segment?(seg) ? ":id" : seg }.join("/")
      end

      def openai_path?(template)
        OPENAI_PATH.match?(template)
      end

      # The model and token counts of an OpenAI-compatible JSON response
      # body (nil values when absent). The parsed body is dropped here.
      def usage_of(body)
        return {} unless body.is_a?(String) && body.bytesize <= MAX_PARSED_BYTES

        usage_in(JSON.parse(body))
      rescue JSON::ParserError, EncodingError
        {} # not logged: a parser's message quotes the body
      end

      # The same for a streamed answer (server-sent events): the last `data:`
      # event carrying `usage` (Chat Completions with
      # stream_options.include_usage) or a `response` with one (the
      # Responses API's response.completed). `text`: the stream or its tail.
      def stream_usage_of(text)
        return {} unless text.is_a?(String)

        text.scrub.split(/\r?\n/).reverse_each do |line|
          next unless line.start_with?("data:") && line.include?("usage")

          data = begin
            JSON.parse(line.delete_prefix("data:"))
          rescue JSON::ParserError
            next
          end
          data = data["response"] if data.is_a?(Hash) && !data["usage"].is_a?(Hash) && data["response"].is_a?(Hash)
          found = usage_in(data)
          return found if found.values_at(:prompt_tokens, :completion_tokens, :total_tokens).any?
        end
        {}
      end

      def usage_in(data)
        return {} unless data.is_a?(Hash)

        usage = data["usage"].is_a?(Hash) ? data["usage"] : {}
        { model: (data["model"] if data["model"].is_a?(String)) }.merge(tokens(usage))
      end

      # prompt/completion/total tokens from a usage Hash (String or Symbol
      # keys; Chat Completions or Responses API names).
      def tokens(usage)
        get = ->(*keys) { keys.lazy.map { |k| usage[k] || usage[k.to_sym] }.find { |v| v.is_a?(Integer) } }
        { prompt_tokens: get.call("prompt_tokens", "input_tokens"),
          completion_tokens: get.call("completion_tokens", "output_tokens"),
          total_tokens: get.call("total_tokens") }
      end

      # The core's fingerprint of a request body's model and prompt, or nil.
      def prompt_fingerprint(body)
        return nil unless body.is_a?(String) && !body.empty?

        Native.prompt_fingerprint(body)
      rescue StandardError
        nil # not logged: a decoder's message may quote the body
      end

      # The first app frame of the caller, "path:line" relative to the app root.
      def location
        path, line, = Native.app_frames.first
        path && "#{CallSite.relative(path)}:#{line}"
      rescue StandardError
        nil
      end

      def monotonic_ms
        Process.clock_gettime(Process::CLOCK_MONOTONIC) * 1000.0
      end

      private

      def id_segment?(seg)
        NUMERIC.match?(seg) || UUID.match?(seg) || HEX.match?(seg) || OPAQUE.match?(seg) || seg.include?("@")
      end
    end
  end
end
