# frozen_string_literal: true

module VirtualTrainerOptimizer
  # Installs the one `sql.active_record` listener, once per process. The
  # listener is native (Native::Subscriber, ext/.../src/subscriber.rs), so an
  # event costs no Ruby frame of ours: outside a unit of work it is one
  # fiber-local lookup (Scope::NATIVE). It skips schema queries, query-cache
  # hits, EXPLAIN and transaction control (by payload name, and by leading
  # keyword in the recorder), and it is fail-open: an error goes to
  # VirtualTrainerOptimizer.internal_error, never into the app's query.
  module Subscriber
    @lock = Mutex.new
    @installed = nil

    class << self
      # Subscribes once; later calls keep the same subscription.
      def install!
        @lock.synchronize do
          @installed ||= begin
            require "active_support/notifications"
            notifications = ActiveSupport::Notifications
            # Monotonic timestamps are Floats: no Time objects per event.
            if notifications.respond_to?(:monotonic_subscribe)
              notifications.monotonic_subscribe("sql.active_record", Native::Subscriber.new)
            else
              notifications.subscribe("sql.active_record", Native::Subscriber.new)
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
  end
end
