# frozen_string_literal: true

module VirtualTrainerOptimizer
  # The one `sql.active_record` subscriber, installed once per process. Outside
  # a unit of work it costs one fiber-local lookup. It skips schema queries,
  # query-cache hits, EXPLAIN and transaction control (the native side also
  # skips them by their leading keyword), and it is fail-open: an error here is
  # counted and logged once, never raised into the app's query.
  class Subscriber
    SKIPPED_NAMES = { "SCHEMA" => true, "CACHE" => true, "EXPLAIN" => true, "TRANSACTION" => true }.freeze
    NATIVE = Scope::NATIVE

    @lock = Mutex.new
    @installed = nil

    class << self
      # Subscribes once; later calls return the same subscription.
      def install!
        @lock.synchronize do
          @installed ||= begin
            require "active_support/notifications"
            notifications = ActiveSupport::Notifications
            # Monotonic timestamps are Floats: no Time objects per event.
            if notifications.respond_to?(:monotonic_subscribe)
              notifications.monotonic_subscribe("sql.active_record", new)
            else
              notifications.subscribe("sql.active_record", new)
            end
          end
        end
      end

      def installed?
        !@installed.nil?
      end

      def uninstall!
        @lock.synchronize do
          ActiveSupport::Notifications.unsubscribe(@installed) if @installed
          @installed = nil
        end
      end
    end

    def call(_name, started, finished, _id, payload)
      native = Thread.current[NATIVE]
      return unless native
      return if payload[:cached] || SKIPPED_NAMES.key?(payload[:name])

      native.record(payload[:sql], payload[:binds], ((finished - started) * 1_000_000).to_i)
    rescue StandardError => e
      VirtualTrainerOptimizer.internal_error(e)
    end
  end
end
