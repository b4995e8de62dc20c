# frozen_string_literal: true

require "yaml"

module VirtualTrainerOptimizer
  module Report
    # What the report's infrastructure section works from: how many
    # processes open connections (Puma from WEB_CONCURRENCY / RAILS_MAX_THREADS,
    # Sidekiq from config/sidekiq.yml or SIDEKIQ_CONCURRENCY, dynos from
    # config/vto_infrastructure.yml), the pool sizes, the database's own
    # max_connections and settings when it is reachable, and the dated price
    # and plan tables (lib/virtual_trainer_optimizer/data/heroku.yml,
    # overridden by config/vto_prices.yml).
    module Infrastructure
      PRICES = File.expand_path("../data/heroku.yml", __dir__)
      PG_SETTINGS = %w[max_connections shared_buffers work_mem effective_cache_size random_page_cost statement_timeout
                       idle_in_transaction_session_timeout log_min_duration_statement].freeze

      module_function

      # config/vto_infrastructure.yml with the caller's overrides, String keys.
      def declared(root, overrides = {})
        deep_merge(load_yaml(File.join(root.to_s, "config", "vto_infrastructure.yml")), stringify(overrides))
      end

      # `declared`: what #declared read (config/vto_infrastructure.yml with
      # the overrides).
      def collect(connection, root, declared)
        pool = pool_size(connection)
        web = declared.fetch("web", {})
        worker = declared.fetch("worker", {})
        prices = deep_merge(load_yaml(PRICES), load_yaml(File.join(root.to_s, "config", "vto_prices.yml")))
        {
          web: { dynos: integer(web["dynos"]) || 1, workers: integer(web["workers"]) || env_integer("WEB_CONCURRENCY", 0),
                 threads: integer(web["threads"]) || env_integer("RAILS_MAX_THREADS", 5), dyno_type: web["dyno_type"] },
          worker: { dynos: integer(worker["dynos"]) || 0,
                    concurrency: integer(worker["concurrency"]) || sidekiq_concurrency(root),
                    dyno_type: worker["dyno_type"] },
          one_off_dynos: integer(declared["one_off_dynos"]) || 0,
          database: database(connection, declared.fetch("database", {}), pool),
          prices: prices.slice("as_of", "currency", "dynos", "databases"),
          plan_limits: prices.fetch("plan_limits", {})
        }
      end

      def database(connection, declared, pool)
        server = server_settings(connection)
        max = integer(declared["max_connections"]) || integer(server["max_connections"])
        { max_connections: max, max_connections_source: max && (declared["max_connections"] ? "declared" : "server"),
          plan: declared["plan"], pgbouncer: declared.fetch("pgbouncer", ENV["PGBOUNCER_ENABLED"].to_s == "true"),
          pool_sizes: [{ process: "web", pool: integer(declared["web_pool"]) || pool },
                       { process: "worker", pool: integer(declared["worker_pool"]) || pool }],
          settings: server.except("max_connections") }
      end

      # The server's settings, when it has them (PostgreSQL, MySQL); nothing
      # for SQLite.
      def server_settings(connection)
        case Introspection.dialect_of(connection)
        when :postgresql
          list = PG_SETTINGS.map { |s| connection.quote(s) }.join(", ")
          connection.select_rows("SELECT name, setting || COALESCE(unit, '') FROM pg_settings WHERE name IN (#{list})")
                    .to_h { |name, value| [name, name == "max_connections" ? value.to_i : value] }
        when :mysql
          { "max_connections" => connection.select_value("SELECT @@max_connections").to_i }
        else {}
        end
      rescue StandardError
        {}
      end

      def pool_size(connection)
        config = connection.pool.respond_to?(:db_config) ? connection.pool.db_config : nil
        integer(config&.pool) || connection.pool.size
      rescue StandardError
        nil
      end

      def sidekiq_concurrency(root)
        yaml = load_yaml(File.join(root.to_s, "config", "sidekiq.yml"))
        integer(yaml[":concurrency"] || yaml["concurrency"]) || env_integer("SIDEKIQ_CONCURRENCY", 10)
      end

      def load_yaml(path)
        return {} unless File.file?(path)

        data = YAML.safe_load(File.read(path), permitted_classes: [Symbol], aliases: false)
        data.is_a?(Hash) ? stringify(data) : {}
      rescue Psych::Exception => e
        raise ArgumentError, "#{path} is not valid YAML: #{e.message}"
      end

      def stringify(hash)
        hash.to_h { |k, v| [k.to_s, v.is_a?(Hash) ? stringify(v) : v] }
      end

      def deep_merge(base, over)
        base.merge(over) { |_, a, b| a.is_a?(Hash) && b.is_a?(Hash) ? deep_merge(a, b) : b }
      end

      def integer(value)
        Integer(value, exception: false) if value
      end

      def env_integer(name, default)
        Integer(ENV.fetch(name, default), exception: false) || default
      end
    end
  end
end
