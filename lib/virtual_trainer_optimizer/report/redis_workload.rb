# frozen_string_literal: true

require "json"
require_relative "fingerprint_shape"

module VirtualTrainerOptimizer
  module Report
    # The fleet's workload as RedisSink keeps it in Redis (see its key
    # layout), read once at construction, in JsonlWorkload's shapes: units
    # per kind + name, fingerprints summed across units with the units that
    # ran them, findings once per kind + fingerprint + location with the
    # number of units they were seen in, and the window the data covers.
    class RedisWorkload
      FP_FIELD = /\Afp:([^:]+):(count|ms)\z/.freeze

      # `redis:` an existing client (else one is opened on `redis_url`).
      def initialize(redis_url: nil, namespace: "vto", redis: nil)
        raise ArgumentError, "RedisWorkload needs redis_url: or redis:" if redis_url.nil? && redis.nil?

        require_redis
        @keys = RedisSink::Keys.new(namespace)
        @redis = redis || connect(redis_url)
        @units = {}
        @fingerprints = {}
        @findings = {}
        load
      rescue Redis::BaseError => e
        # Not the URL: it may hold a password.
        raise Error, "cannot read the workload from Redis (namespace #{namespace}): #{e.class}: #{e.message}"
      end

      def workload(_dialect)
        { source: "redis", window_seconds: window, units: @units.values,
          fingerprints: @fingerprints.values.map { |f| FingerprintShape.finish(f, findings) } }
      end

      def findings
        @findings.values
      end

      # The request and job runs that made outbound calls, oldest first.
      attr_reader :external_scopes

      # Deletes every key of the namespace (SCAN, so a large Redis is never
      # blocked the way KEYS would). Returns the number of keys deleted.
      def clear!
        deleted = 0
        cursor = "0"
        loop do
          cursor, keys = @redis.scan(cursor, match: @keys.pattern, count: 500)
          deleted += @redis.del(*keys) unless keys.empty?
          break if cursor == "0"
        end
        deleted
      end

      private

      # Loaded here, not with the report: only this source needs the gem.
      def require_redis
        require "redis"
      rescue LoadError => e
        raise Error, "the Redis workload needs the redis gem: #{e.message}"
      end

      def connect(url)
        Redis.new(url: url, connect_timeout: 2, read_timeout: 10, reconnect_attempts: 1)
      end

      def load
        meta = @redis.hgetall(@keys.meta)
        @from = meta["from"]&.to_f
        @to = meta["to"]&.to_f
        sql = @redis.hgetall(@keys.sql)
        members = @redis.smembers(@keys.units).sort
        @redis.pipelined { |pipe| members.each { |m| pipe.hgetall(@keys.unit(m)) } }
              .each { |h| unit(h, sql) unless h.empty? } # expired while its name stayed listed
        ids = @redis.smembers(@keys.findings).sort
        @redis.pipelined { |pipe| ids.each { |id| pipe.hgetall(@keys.finding(id)) } }
              .each { |h| finding(h) unless h.empty? }
        @external_scopes = @redis.lrange(@keys.external, 0, External::Workload::MAX_SCOPES - 1).reverse
                                 .filter_map { |json| external(json) }
      end

      def external(json)
        External::Workload.read(JSON.parse(json))
      rescue JSON::ParserError
        nil
      end

      def window
        @from && @to ? (@to - @from).round(3) : 0.0
      end

      def unit(hash, sql)
        unit = { kind: hash["kind"], name: hash["name"], count: hash["count"].to_i, queries: hash["queries"].to_i,
                 db_ms: float(hash["db_ms"]), elapsed_ms: float(hash["elapsed_ms"]),
                 max_elapsed_ms: float(hash["max_elapsed_ms"]), view_ms: float(hash["view_ms"]),
                 method: hash["method"], queue: hash["queue"] }
        @units[[unit[:kind], unit[:name]]] = unit
        per_fp = Hash.new { |h, fp| h[fp] = [0, 0.0] }
        hash.each do |field, value|
          fp, what = FP_FIELD.match(field)&.captures
          next unless fp

          what == "count" ? per_fp[fp][0] = value.to_i : per_fp[fp][1] = value.to_f
        end
        per_fp.each { |fp, (calls, ms)| fingerprint(fp, sql[fp], calls, ms, unit) }
      end

      def fingerprint(fp, sql, calls, ms, unit)
        entry = @fingerprints[fp] ||= { fingerprint: fp, sql: sql, calls: 0, total_ms: 0.0, units: {}, call_sites: [] }
        entry[:calls] += calls
        entry[:total_ms] += ms
        entry[:units][[unit[:kind], unit[:name]]] = { kind: unit[:kind], name: unit[:name], calls: calls,
                                                      total_ms: ms.round(3) }
      end

      def finding(hash)
        key = hash.values_at("kind", "fingerprint", "location")
        @findings[key] = {
          kind: hash["kind"], fingerprint: hash["fingerprint"], sql: hash["sql"], count: hash["count"].to_i,
          occurrences: hash["occurrences"].to_i, location: hash["location"], suggestion: hash["suggestion"],
          priority: hash["priority"], total_ms: float(hash["total_ms"]), max_ms: float(hash["max_ms"]),
          scope_kind: hash["scope_kind"], scope_name: hash["scope_name"], table: hash["table"], column: hash["column"]
        }
      end

      # HINCRBYFLOAT sums read back as 12.300000000000001.
      def float(value)
        value.to_f.round(3)
      end
    end
  end
end
