# frozen_string_literal: true

module VirtualTrainerOptimizer
  # Stops calling an external API that keeps failing, so requests fail fast
  # instead of piling up behind its timeouts. Around an OpenAI call:
  #
  #   breaker = VirtualTrainerOptimizer::CircuitBreaker.for("api.openai.com",
  #     failure_if: ->(r) { r.respond_to?(:code) && (r.code.to_i == 429 || r.code.to_i >= 500) })
  #   VirtualTrainerOptimizer::Retry.call(attempts: 4, on: [Net::ReadTimeout,
  #                                                        VirtualTrainerOptimizer::CircuitBreaker::OpenError]) do
  #     breaker.call { client.chat(parameters: params) }
  #   end
  #
  # There an open circuit is retried only when its retry_after is within
  # Retry's max_delay (20 s): otherwise the caller fails fast at once.
  #
  # Closed: calls run; failures (exceptions of `on:` but not `ignore:`, and
  # results `failure_if:` flags, which are still returned) are counted over
  # `window` seconds, in BUCKETS slices. `failure_threshold` of them, or with
  # `failure_rate:` that share of at least `minimum_calls` calls, open it.
  # Open: calls raise OpenError without running. After `cool_down` seconds,
  # half-open: `half_open_probes` calls run at once as probes, the others
  # raise OpenError; the first probe to finish closes it (success) or opens
  # it again (failure). A probe that never reports (its process died) is
  # presumed lost after `cool_down`, and new probes are let through.
  #
  # State lives in Redis when config.redis_url is set (`store: :auto`, or
  # `store:` an existing Redis client), so every process shares it; else in
  # this process. One hash per breaker, NS:breaker:NAME (NS:
  # config.redis_namespace), expiring `window + 2 * cool_down` seconds after
  # its last write: fields state, opened_at, probe_at, probes, and
  # f:SLICE / c:SLICE (failures / calls per slice); no key means closed with
  # nothing counted. Writes are WATCH/MULTI transactions computed by the
  # same Ruby code as the in-process state, retried on conflict. A Redis
  # error makes that call use this process's state (logged once through
  # internal_error) and leaves Redis alone for REDIS_PAUSE seconds.
  # Transitions publish circuit_breaker.virtual_trainer_optimizer (name:,
  # from:, to:) when ActiveSupport is loaded and config.instrument is on.
  class CircuitBreaker
    # Raised instead of running the block while the circuit is open (or
    # half-open with its probes taken). `retry_after`: seconds until a call
    # may be let through.
    class OpenError < Error
      attr_reader :name, :retry_after

      def initialize(name, retry_after)
        @name = name
        @retry_after = retry_after
        super("circuit #{name} is open; retry after #{retry_after}s")
      end
    end

    # What internal_error logs when Redis fails (its own class, so it is
    # logged once apart from the workload sink's Redis errors).
    class StorageError < Error; end

    BUCKETS = 10
    REDIS_PAUSE = 5.0
    WATCH_ATTEMPTS = 20
    NAME = %r{\A[A-Za-z0-9_.:/-]+\z}.freeze
    EVENT = "circuit_breaker.virtual_trainer_optimizer"
    REALTIME = -> { Process.clock_gettime(Process::CLOCK_REALTIME) }

    @registry = {}
    @redis_lock = Mutex.new

    class << self
      # This process's breaker for `name`, created with `options` on first
      # use (later options are ignored: call sites may rebuild their lambdas).
      def for(name, **options)
        @redis_lock.synchronize { @registry[name.to_s] ||= new(name, **options) }
      end

      # Forgets the breakers `.for` made (tests).
      def reset_registry!
        @redis_lock.synchronize { @registry = {} }
      end

      # The process's client for `url`, reopened after fork or a failure.
      def redis_for(url)
        @redis_lock.synchronize do
          unless @redis && @redis_url == url && @redis_pid == Process.pid
            require "redis"
            # Short timeouts, no retries: the breaker guards slow calls, it must not be one.
            @redis = Redis.new(url: url, connect_timeout: 0.5, read_timeout: 1, write_timeout: 1,
                               reconnect_attempts: 0)
            @redis_url = url
            @redis_pid = Process.pid
          end
          @redis
        end
      end

      # Drops a client that failed: a reply left unread would answer the next command.
      def drop_redis(client)
        @redis_lock.synchronize do
          next unless @redis.equal?(client)

          client.close if @redis_pid == Process.pid # a parent's socket is not ours to close
          @redis = nil
        end
      rescue StandardError
        nil
      end
    end

    attr_reader :name

    def initialize(name, failure_threshold: 5, window: 60, cool_down: 30, half_open_probes: 1, failure_rate: nil,
                   minimum_calls: nil, store: :auto, clock: nil, on: [StandardError], ignore: [], failure_if: nil)
      @name = name.to_s
      unless NAME.match?(@name) # it ends a Redis key: no spaces nor glob characters
        raise ArgumentError, "circuit breaker name must match #{NAME.inspect}, got #{name.inspect}"
      end

      @threshold = count!(:failure_threshold, failure_threshold)
      @window = positive!(:window, window).to_f
      @cool_down = positive!(:cool_down, cool_down).to_f
      @probes = count!(:half_open_probes, half_open_probes)
      unless failure_rate.nil? || (failure_rate.is_a?(Numeric) && failure_rate.positive? && failure_rate <= 1)
        raise ArgumentError, "failure_rate must be in (0, 1] or nil, got #{failure_rate.inspect}"
      end

      @rate = failure_rate&.to_f
      @minimum = minimum_calls.nil? ? @threshold : count!(:minimum_calls, minimum_calls)
      unless %i[auto memory].include?(store) || store.respond_to?(:watch)
        raise ArgumentError, "store must be :auto, :memory or a Redis client, got #{store.inspect}"
      end

      @store = store
      @clock = callable!(:clock, clock) || REALTIME
      @failure_if = callable!(:failure_if, failure_if)
      @on = Array(on)
      @ignore = Array(ignore)
      @slice = @window / BUCKETS
      @ttl = (@window + (2 * @cool_down)).ceil
      @lock = Mutex.new
      @memory = {}
      @redis_paused_until = nil
    end

    # Runs the block unless the circuit is open; returns its result.
    def call
      raise ArgumentError, "CircuitBreaker#call needs a block" unless block_given?

      time = now
      verdict, retry_after, transition = transact { |h| admit(h, time) }
      notify(transition)
      raise OpenError.new(@name, retry_after.round(3)) if verdict == :reject

      outcome = :neutral # an Exception that is no StandardError (Interrupt, Thread#kill) only frees a probe
      begin
        result = yield
        outcome = @failure_if&.call(result) ? :failure : :success
        result
      rescue StandardError => e
        outcome = failure?(e) ? :failure : :success # ignored errors: the service did answer
        raise
      ensure
        settle(outcome, verdict == :probe)
      end
    end

    # :closed, :open or :half_open (open with its cool-down over).
    def state
      h = transact { |stored| [stored, nil] }
      case h["state"]
      when "open" then now >= h["opened_at"].to_f + @cool_down ? :half_open : :open
      when "half_open" then :half_open
      else :closed
      end
    end

    # Closed, nothing counted (here and in Redis).
    def reset!
      from = transact { |h| [(h["state"] || "closed").to_sym, {}] }
      @lock.synchronize { @memory = {} }
      notify([from, :closed]) unless from == :closed
      nil
    end

    private

    # The transitions below take the stored hash (strings from Redis, numbers
    # in memory) and return [result, new hash or nil when unchanged], without
    # side effects: Redis may run them again after a conflict.

    def admit(h, time)
      case h["state"]
      when "open"
        reopens = h["opened_at"].to_f + @cool_down
        return [[:reject, reopens - time]] if time < reopens

        [[:probe, 0, %i[open half_open]], { "state" => "half_open", "probe_at" => time, "probes" => 1 }]
      when "half_open"
        lost = h["probe_at"].to_f + @cool_down
        return [[:probe], h.merge("probe_at" => time, "probes" => 1)] if time >= lost
        return [[:probe], h.merge("probes" => h["probes"].to_i + 1)] if h["probes"].to_i < @probes

        [[:reject, lost - time]]
      else
        [[:allow]]
      end
    end

    def settle(outcome, probe)
      time = now
      transition = transact { |h| probe ? settle_probe(h, outcome, time) : tally(h, outcome, time) }
      notify(transition)
    rescue StandardError => e
      VirtualTrainerOptimizer.internal_error(e)
    end

    def settle_probe(h, outcome, time)
      return [nil] unless h["state"] == "half_open" # another probe decided first

      case outcome
      when :success then [%i[half_open closed], {}]
      when :failure then [%i[half_open open], { "state" => "open", "opened_at" => time }]
      else [nil, h.merge("probes" => [h["probes"].to_i - 1, 0].max)]
      end
    end

    # Counts a call admitted while closed; the circuit may have opened since.
    def tally(h, outcome, time)
      return [nil] if h["state"] || outcome == :neutral || (outcome == :success && @rate.nil?)

      current = (time / @slice).floor
      kept = h.select { |field, _| field.split(":").last.to_i > current - BUCKETS }
      kept["c:#{current}"] = kept["c:#{current}"].to_i + 1 if @rate
      kept["f:#{current}"] = kept["f:#{current}"].to_i + 1 if outcome == :failure
      failures, calls = %w[f c].map { |kind| kept.sum { |field, n| field.start_with?(kind) ? n.to_i : 0 } }
      trips = @rate ? calls >= @minimum && failures >= @rate * calls : failures >= @threshold
      return [nil, kept] unless trips

      [%i[closed open], { "state" => "open", "opened_at" => time }]
    end

    def failure?(error)
      @on.any? { |k| error.is_a?(k) } && @ignore.none? { |k| error.is_a?(k) }
    end

    # Runs a transition on Redis, or on this process's state when Redis is
    # not configured or failing.
    def transact(&step)
      redis = redis_client
      if redis
        begin
          return redis_transact(redis, &step)
        rescue StandardError => e
          redis_failed(redis, e)
        end
      end
      @lock.synchronize do
        result, changed = step.call(@memory)
        @memory = changed if changed
        result
      end
    end

    # One read when nothing changes (the common case: a closed circuit);
    # otherwise WATCH, read again, write in MULTI, retry if another process wrote first.
    def redis_transact(redis, &step)
      key = "#{VirtualTrainerOptimizer.config.redis_namespace}:breaker:#{@name}"
      result, changed = step.call(redis.hgetall(key))
      return result unless changed

      WATCH_ATTEMPTS.times do
        done = redis.watch(key) do
          result, changed = step.call(redis.hgetall(key))
          next redis.unwatch && true unless changed

          redis.multi do |tx|
            tx.del(key)
            next if changed.empty?

            tx.mapped_hmset(key, changed)
            tx.expire(key, @ttl)
          end
        end
        return result if done
      end
      raise StorageError, "circuit breaker #{@name}: #{WATCH_ATTEMPTS} conflicting Redis writes in a row"
    end

    def redis_client
      return nil if @store == :memory
      return nil if @redis_paused_until && Process.clock_gettime(Process::CLOCK_MONOTONIC) < @redis_paused_until
      return @store unless @store == :auto

      url = VirtualTrainerOptimizer.config.redis_url
      url && self.class.redis_for(url)
    end

    def redis_failed(redis, error)
      self.class.drop_redis(redis)
      @redis_paused_until = Process.clock_gettime(Process::CLOCK_MONOTONIC) + REDIS_PAUSE
      # Not the URL: it may hold a password.
      wrapped = StorageError.new("circuit breaker #{@name}: Redis failed, using this process's state for " \
                                 "#{REDIS_PAUSE}s (#{error.class}: #{error.message})")
      wrapped.set_backtrace(error.backtrace || [])
      VirtualTrainerOptimizer.internal_error(wrapped)
    end

    def notify((from, to))
      return unless to && defined?(ActiveSupport::Notifications) && VirtualTrainerOptimizer.config.instrument

      ActiveSupport::Notifications.instrument(EVENT, name: @name, from: from, to: to)
    rescue StandardError => e # a subscriber's bug must not fail the guarded call
      VirtualTrainerOptimizer.internal_error(e)
    end

    def now
      @clock.call.to_f
    end

    def count!(option, value)
      return value if value.is_a?(Integer) && value >= 1

      raise ArgumentError, "#{option} must be an Integer >= 1, got #{value.inspect}"
    end

    def positive!(option, value)
      return value if value.is_a?(Numeric) && value.positive?

      raise ArgumentError, "#{option} must be a positive number of seconds, got #{value.inspect}"
    end

    def callable!(option, value)
      return value if value.nil? || value.respond_to?(:call)

      raise ArgumentError, "#{option} must respond to #call"
    end
  end
end
