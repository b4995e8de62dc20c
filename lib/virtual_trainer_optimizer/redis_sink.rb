# frozen_string_literal: true

require "json"
require "digest"
require_relative "flusher"

module VirtualTrainerOptimizer
  # The fleet's workload in Redis (config.redis_url): every process (Puma
  # workers, Sidekiq, every dyno) adds its units of work and findings to the
  # same keys, so Report::RedisWorkload sees them all.
  #
  # The request path only adds the finished unit to an in-memory batch under
  # a mutex (aggregated as JsonlSink does). A background thread writes the
  # batch every FLUSH_SECONDS in three pipelined round trips: admit new names
  # against the bounds kept in Redis, admit the units' fingerprints, then add
  # the totals. A Redis error drops that batch and is logged once (internal_error).
  #
  # Keys (NS: config.redis_namespace), each expiring config.redis_ttl seconds
  # after its last write:
  #   NS:meta                hash  v, from, to (Unix times: the window the data covers)
  #   NS:units               set   "KIND:NAME" of every unit, at most MAX_UNITS
  #   NS:unit:KIND:NAME      hash  kind, name, method or queue, count, queries, db_ms,
  #                                elapsed_ms, view_ms (sums), max_elapsed_ms,
  #                                fp:FINGERPRINT:count and fp:FINGERPRINT:ms (sums)
  #   NS:unit_fps:KIND:NAME  set   the unit's fingerprints, at most MAX_FINGERPRINTS
  #   NS:sql                 hash  fingerprint => normalized SQL (first seen)
  #   NS:findings            set   finding ids (kind + fingerprint + location), at most MAX_FINDINGS
  #   NS:finding:ID          hash  kind, fingerprint, location, sql, suggestion, priority, scope_kind,
  #                                scope_name, table, column (first seen), occurrences (sum),
  #                                count, total_ms, max_ms (max)
  #   NS:external            list  JSON of each request or job run with outbound calls
  #                                (External::Workload), newest first, at most
  #                                External::Workload::MAX_SCOPES
  module RedisSink
    VERSION = 1
    FLUSH_SECONDS = 1.0
    MAX_UNITS = JsonlSink::MAX_UNITS
    MAX_FINGERPRINTS = JsonlSink::MAX_FINGERPRINTS
    MAX_FINDINGS = 1000
    # Distinct (url, namespace, ttl) targets buffered at once: only a test
    # or a reconfiguration changes them between flushes.
    MAX_TARGETS = 4
    STATIC_FINDING_FIELDS = %i[sql suggestion priority scope_kind scope_name table column].freeze

    # Adds the candidates (ARGV[3..]) to the set KEYS[1] while it holds fewer
    # than ARGV[1] members, in one step, so concurrent processes never push it
    # past its bound. Returns 1 (a member) or 0 (refused) per candidate.
    ADMIT = <<~LUA
      local bound, size, out = tonumber(ARGV[1]), redis.call('SCARD', KEYS[1]), {}
      for i = 3, #ARGV do
        if redis.call('SISMEMBER', KEYS[1], ARGV[i]) == 1 then
          out[#out + 1] = 1
        elseif size < bound then
          redis.call('SADD', KEYS[1], ARGV[i])
          size = size + 1
          out[#out + 1] = 1
        else
          out[#out + 1] = 0
        end
      end
      redis.call('EXPIRE', KEYS[1], ARGV[2])
      return out
    LUA

    # Keeps the larger ("max") or smaller ("min") number in hash fields of
    # KEYS[1]; ARGV holds field, value, "max"|"min" triples. Redis has no
    # HMAX, and a read-then-write from Ruby would race other processes.
    EXTREMES = <<~LUA
      for i = 1, #ARGV, 3 do
        local current, value, op = tonumber(redis.call('HGET', KEYS[1], ARGV[i])), tonumber(ARGV[i + 1]), ARGV[i + 2]
        if current == nil or (op == 'max' and value > current) or (op == 'min' and value < current) then
          redis.call('HSET', KEYS[1], ARGV[i], ARGV[i + 1])
        end
      end
      return 0
    LUA

    # The key names of a namespace, shared with Report::RedisWorkload.
    class Keys
      # No ":" nor glob characters: "vto" must not match "vto:staging:*" or
      # be read as a pattern when the report clears its keys.
      NAMESPACE = /\A[A-Za-z0-9_.-]+\z/.freeze

      attr_reader :namespace

      def initialize(namespace)
        unless namespace.is_a?(String) && NAMESPACE.match?(namespace)
          raise ArgumentError, "redis_namespace must be letters, digits, _ . or -, got #{namespace.inspect}"
        end

        @namespace = namespace
      end

      def meta = "#{namespace}:meta"
      def units = "#{namespace}:units"
      def sql = "#{namespace}:sql"
      def findings = "#{namespace}:findings"
      def external = "#{namespace}:external"
      def unit(member) = "#{namespace}:unit:#{member}"
      def unit_fps(member) = "#{namespace}:unit_fps:#{member}"
      def finding(id) = "#{namespace}:finding:#{id}"
      def pattern = "#{namespace}:*"

      # The units set's member (and key suffix) of a unit: its kind has no ":".
      def self.member(kind, name) = "#{kind}:#{name}"

      def self.finding_id(kind, fingerprint, location)
        Digest::SHA256.hexdigest(JSON.generate([kind.to_s, fingerprint, location]))[0, 20]
      end
    end

    # A process's pending workload for one target.
    Batch = Struct.new(:units, :findings, :since, :external)

    class << self
      # Adds a finished unit of work (a Result) to this process's batch. No I/O.
      def record(result)
        config = VirtualTrainerOptimizer.config
        target = [config.redis_url, config.redis_namespace, config.redis_ttl]
        now = Time.now.to_f
        @lock.synchronize do
          batch = @batches[target]
          unless batch
            return if @batches.size >= MAX_TARGETS

            batch = @batches[target] = Batch.new({}, {}, nil, [])
          end
          started = now - (result.elapsed_ms.to_f / 1000.0)
          batch.since = started if batch.since.nil? || started < batch.since
          JsonlSink.aggregate(batch.units, result) unless result.kind == :scan
          result.findings.each { |finding| add_finding(batch.findings, finding) }
          external = External::Workload.scope_of(result)
          if external # the newest are kept, as Redis keeps them
            batch.external << external
            batch.external.shift if batch.external.size > External::Workload::MAX_SCOPES
          end
          start_flusher
        end
        nil
      end

      # Writes every pending batch now (the flusher thread, tests, at exit).
      # Never raises: a failed batch is dropped and the error logged once.
      def flush
        @flush_lock.synchronize do
          batches = @lock.synchronize do
            taken = @batches
            @batches = {}
            taken
          end
          batches.each { |target, batch| deliver(target, batch) }
        end
        nil
      end

      # A forked child drops the parent's batch (the parent writes it) and
      # its connection (a socket shared with the parent would mix replies).
      def after_fork!
        reset
      end

      private

      # The state of a process that has buffered nothing and holds no
      # connection: at load and in a forked child.
      def reset
        @lock = Mutex.new
        @flush_lock = Mutex.new
        @batches = {}
        @flusher = nil
        @redis = nil
        @redis_url = nil
      end

      def add_finding(findings, finding)
        key = [finding.kind, finding.fingerprint, finding.location]
        entry = findings[key]
        unless entry
          return if findings.size >= MAX_FINDINGS

          static = STATIC_FINDING_FIELDS.to_h { |field| [field, finding.public_send(field)] }
          entry = findings[key] = { occurrences: 0, count: 0, total_ms: 0.0, max_ms: 0.0, static: static }
        end
        entry[:occurrences] += 1
        entry[:count] = [entry[:count], finding.count.to_i].max
        entry[:total_ms] = [entry[:total_ms], finding.total_ms.to_f].max
        entry[:max_ms] = [entry[:max_ms], finding.max_ms.to_f].max
      end

      def deliver((url, namespace, ttl), batch)
        write(connection(url), Keys.new(namespace), ttl, batch)
      rescue StandardError => e
        disconnect # a reply left unread would answer the next command
        VirtualTrainerOptimizer.internal_error(e)
      end

      def write(redis, keys, ttl, batch)
        units = batch.units.map { |(kind, name), unit| [Keys.member(kind, name), kind, name, unit] }
        findings = batch.findings.map do |(kind, fp, location), f|
          [Keys.finding_id(kind, fp, location), kind, fp, location, f]
        end
        unit_ok, finding_ok = redis.pipelined do |pipe|
          pipe.eval(ADMIT, keys: [keys.units], argv: [MAX_UNITS, ttl, *units.map(&:first)])
          pipe.eval(ADMIT, keys: [keys.findings], argv: [MAX_FINDINGS, ttl, *findings.map(&:first)])
        end
        units = units.select.with_index { |_, i| unit_ok[i] == 1 }
        findings = findings.select.with_index { |_, i| finding_ok[i] == 1 }
        # The unit's costliest shapes, admitted against its own bound.
        tops = units.map { |*, unit| unit[:fingerprints].sort_by { |_, (_, ms)| -ms }.first(MAX_FINGERPRINTS) }
        fp_ok = redis.pipelined do |pipe|
          units.each_with_index do |(member, *), i|
            pipe.eval(ADMIT, keys: [keys.unit_fps(member)], argv: [MAX_FINGERPRINTS, ttl, *tops[i].map(&:first)])
          end
        end
        tops = tops.each_with_index.map { |top, i| top.select.with_index { |_, j| fp_ok[i][j] == 1 } }
        redis.pipelined do |pipe|
          units.each_with_index { |unit, i| write_unit(pipe, keys, ttl, unit, tops[i]) }
          findings.each { |finding| write_finding(pipe, keys, ttl, finding) }
          pipe.hsetnx(keys.meta, "v", VERSION)
          window = ["from", batch.since.round(3), "min", "to", Time.now.to_f.round(3), "max"]
          pipe.eval(EXTREMES, keys: [keys.meta], argv: window)
          pipe.expire(keys.meta, ttl)
          pipe.expire(keys.sql, ttl)
          write_external(pipe, keys, ttl, batch.external)
        end
      end

      def write_unit(pipe, keys, ttl, (member, kind, name, unit), fingerprints)
        key = keys.unit(member)
        pipe.hsetnx(key, "kind", kind.to_s)
        pipe.hsetnx(key, "name", name.to_s)
        pipe.hsetnx(key, kind == :request ? "method" : "queue", unit[:detail].to_s) if unit[:detail]
        pipe.hincrby(key, "count", unit[:count])
        pipe.hincrby(key, "queries", unit[:queries])
        %i[db_ms elapsed_ms view_ms].each { |field| pipe.hincrbyfloat(key, field.to_s, unit[field].round(3)) }
        pipe.eval(EXTREMES, keys: [key], argv: ["max_elapsed_ms", unit[:max_elapsed_ms].round(3), "max"])
        fingerprints.each do |fp, (count, ms, sql)|
          pipe.hincrby(key, "fp:#{fp}:count", count)
          pipe.hincrbyfloat(key, "fp:#{fp}:ms", ms.round(3))
          pipe.hsetnx(keys.sql, fp, sql.to_s)
        end
        pipe.expire(key, ttl)
      end

      def write_external(pipe, keys, ttl, scopes)
        return if scopes.empty?

        pipe.lpush(keys.external, scopes.map { |scope| JSON.generate(scope) })
        pipe.ltrim(keys.external, 0, External::Workload::MAX_SCOPES - 1)
        pipe.expire(keys.external, ttl)
      end

      def write_finding(pipe, keys, ttl, (id, kind, fp, location, f))
        key = keys.finding(id)
        { kind: kind, fingerprint: fp, location: location, **f[:static] }.each do |field, value|
          pipe.hsetnx(key, field.to_s, value.to_s) unless value.nil?
        end
        pipe.hincrby(key, "occurrences", f[:occurrences])
        pipe.eval(EXTREMES, keys: [key], argv: ["count", f[:count], "max", "total_ms", f[:total_ms].round(3), "max",
                                                "max_ms", f[:max_ms].round(3), "max"])
        pipe.expire(key, ttl)
      end

      def connection(url)
        return @redis if @redis && @redis_url == url

        disconnect
        begin
          require "redis"
        rescue LoadError => e
          raise Error, "config.redis_url needs the redis gem: #{e.message}"
        end
        # Short timeouts and no retries: a slow Redis costs the flusher a
        # batch, never a request.
        @redis = Redis.new(url: url, connect_timeout: 1, read_timeout: 2, write_timeout: 2, reconnect_attempts: 0)
        @redis_url = url
        @redis
      end

      def disconnect
        @redis&.close
      rescue StandardError
        nil
      ensure
        @redis = nil
      end

      def start_flusher
        return if @flusher&.alive?

        @flusher = Flusher.start("virtual_trainer_optimizer-redis", FLUSH_SECONDS) { flush }
      end
    end

    reset
  end
end

at_exit { VirtualTrainerOptimizer::RedisSink.flush }
