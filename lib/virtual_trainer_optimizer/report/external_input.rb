# frozen_string_literal: true

module VirtualTrainerOptimizer
  module Report
    # The report's `external` section: the outbound calls the workload
    # recorded (one scope per request or job run), the dated price table
    # (External::Analysis.prices) and what config/vto_infrastructure.yml
    # says under `external:`:
    #
    #   external:
    #     monthly_scale: 720        # the recorded window is one hour of traffic
    #     growth: [1, 2, 5, 10]     # usage multipliers for the cost projection
    #     rate_limits:
    #       api.openai.com: { requests_per_minute: 500, tokens_per_minute: 200000 }
    #
    # Without `monthly_scale`, the window is taken as a sample of continuous
    # traffic: 30 days divided by the window's length.
    module ExternalInput
      SECONDS_PER_MONTH = 30 * 86_400
      RATE_KEYS = %w[requests_per_minute tokens_per_minute].freeze

      module_function

      # The section, or nil when no call was recorded.
      def collect(scopes, window_seconds, declared, root)
        return nil if scopes.empty?

        declared = declared.fetch("external", nil) || {}
        raise ArgumentError, "vto_infrastructure.yml: external must be a mapping, got #{declared.inspect}" unless declared.is_a?(Hash)

        input = { scopes: scopes, prices: External::Analysis.prices(root),
                  options: { monthly_scale: monthly_scale(declared["monthly_scale"], window_seconds) },
                  rate_limits: rate_limits(declared["rate_limits"]) }
        input[:growth] = growth(declared["growth"]) if declared.key?("growth")
        input
      end

      def monthly_scale(value, window_seconds)
        return positive(value, "external.monthly_scale") unless value.nil?

        window_seconds.to_f.positive? ? (SECONDS_PER_MONTH / window_seconds.to_f).round(3) : 1.0
      end

      def rate_limits(value)
        return {} if value.nil?
        raise ArgumentError, "vto_infrastructure.yml: external.rate_limits must map hosts to limits, got #{value.inspect}" unless value.is_a?(Hash)

        value.to_h do |host, limits|
          unless limits.is_a?(Hash) && (limits.keys - RATE_KEYS).empty?
            raise ArgumentError, "vto_infrastructure.yml: external.rate_limits.#{host} takes #{RATE_KEYS.join(' and ')}, " \
                                 "got #{limits.inspect}"
          end

          [host.to_s.downcase, limits.to_h { |k, v| [k, positive(v, "external.rate_limits.#{host}.#{k}")] }]
        end
      end

      def growth(value)
        list = Array(value)
        raise ArgumentError, "vto_infrastructure.yml: external.growth must list multipliers, got #{value.inspect}" if list.empty?

        list.map { |v| positive(v, "external.growth") }
      end

      def positive(value, name)
        number = Float(value, exception: false)
        return number if number&.positive? && number.finite?

        raise ArgumentError, "vto_infrastructure.yml: #{name} must be a positive number, got #{value.inspect}"
      end
    end
  end
end
