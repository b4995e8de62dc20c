# frozen_string_literal: true

module VirtualTrainerOptimizer
  # Retries a block with exponential backoff and jitter (see CircuitBreaker
  # for use around an API client):
  #
  #   VirtualTrainerOptimizer::Retry.call(attempts: 4, on: [Net::ReadTimeout]) { |attempt| client.get(...) }
  #
  # Attempt n that raised one of `on:` (or returned a result `retry_if:`
  # flags) waits min(max_delay, base * 2**(n-1)) seconds before attempt n+1,
  # jittered: :full, a random share of it (spreads clients that failed
  # together); :equal, half of it plus a random half; nil, all of it. A
  # `retry_after` (seconds) on the error, or on the flagged result (method,
  # or :retry_after / "retry_after" key), is waited instead; one above
  # max_delay ends the retries at once, since an earlier retry would only be
  # refused again. Out of attempts, the last error is raised (or the last
  # result returned). CircuitBreaker::OpenError is retried only when `on:`
  # names it: an open circuit is meant to fail fast.
  module Retry
    JITTERS = [:full, :equal, nil].freeze

    # `sleeper`: callable given the seconds to wait (default Kernel#sleep);
    # `random`: Random for the jitter (default Random's global one).
    def self.call(attempts: 4, base: 0.5, max_delay: 20, jitter: :full, on: [StandardError], retry_if: nil,
                  sleeper: nil, random: nil)
      raise ArgumentError, "Retry.call needs a block" unless block_given?
      unless attempts.is_a?(Integer) && attempts >= 1
        raise ArgumentError, "attempts must be an Integer >= 1, got #{attempts.inspect}"
      end
      raise ArgumentError, "jitter must be :full, :equal or nil, got #{jitter.inspect}" unless JITTERS.include?(jitter)

      errors = Array(on)
      raise ArgumentError, "on: needs at least one exception class" if errors.empty?

      open_retried = errors.any? { |k| k <= CircuitBreaker::OpenError }
      sleeper ||= ->(seconds) { sleep(seconds) }
      random ||= Random
      attempt = 1
      loop do
        begin
          result = yield(attempt)
        rescue *errors => e
          raise if attempt >= attempts || (e.is_a?(CircuitBreaker::OpenError) && !open_retried)

          wait = delay(attempt, base, max_delay, jitter, random, hint(e))
          raise if wait.nil?
        else
          return result if attempt >= attempts || !retry_if&.call(result)

          wait = delay(attempt, base, max_delay, jitter, random, hint(result, from_result: true))
          return result if wait.nil?
        end
        sleeper.call(wait)
        attempt += 1
      end
    end

    # Seconds to wait after `attempt`, or nil when `retry_after` exceeds max_delay.
    def self.delay(attempt, base, max_delay, jitter, random, retry_after)
      return retry_after <= max_delay ? retry_after : nil if retry_after

      cap = [max_delay.to_f, base.to_f * (2**(attempt - 1))].min # floats: an Integer base must not halve to 0
      case jitter
      when :full then random.rand * cap
      when :equal then (cap / 2) + (random.rand * cap / 2)
      else cap
      end
    end

    # A usable retry_after (a number, or a string of one; negatives are 0), else nil.
    def self.hint(source, from_result: false)
      value = if source.respond_to?(:retry_after) then source.retry_after
              elsif from_result && source.is_a?(Hash) then source.fetch(:retry_after) { source["retry_after"] }
              end
      value = Float(value, exception: false) if value.is_a?(String)
      value.is_a?(Numeric) ? [value.to_f, 0.0].max : nil
    end
    private_class_method :delay, :hint
  end
end
