# frozen_string_literal: true

module VirtualTrainerOptimizer
  module External
    # A streamed OpenAI answer (server-sent events read with
    # `response.read_body { |chunk| ... }`) reports its usage in its last
    # event. The tap keeps only the stream's last TAIL_BYTES and its size,
    # on the response, for NetHttp to read the usage from; the chunks reach
    # the app's block unchanged.
    module StreamTap
      TAIL_BYTES = 16 * 1024

      # The app's #request block, with the response tapped before it runs.
      def self.wrap(block)
        proc do |response|
          response.extend(StreamTap)
          block.call(response)
        end
      end

      def read_body(dest = nil, &block)
        return super unless block

        super(dest) do |chunk|
          StreamTap.keep(self, chunk)
          block.call(chunk)
        end
      end

      def self.keep(response, chunk)
        tail = response.instance_variable_get(:@vto_tail)
        tail = tail ? tail + chunk : chunk.dup
        tail = tail.byteslice(-TAIL_BYTES, TAIL_BYTES) if tail.bytesize > TAIL_BYTES
        response.instance_variable_set(:@vto_tail, tail)
        response.instance_variable_set(:@vto_bytes, response.instance_variable_get(:@vto_bytes).to_i + chunk.bytesize)
      rescue StandardError => e
        VirtualTrainerOptimizer.internal_error(e)
      end
    end
  end
end
