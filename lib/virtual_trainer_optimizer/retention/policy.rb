# frozen_string_literal: true

module VirtualTrainerOptimizer
  module Retention
    # One table's retention policy: how long rows are kept (by
    # `timestamp_column`, rows matching `where`), and what happens after:
    # :delete, :archive (moved to `archive_table`), :anonymize (`columns` set
    # to NULL, or to its default; `hashed_columns` to a keyed hash), or :keep
    # (kept on purpose, with a `legal_basis`).
    Policy = Struct.new(:table, :keep_seconds, :timestamp_column, :where, :action, :columns, :hashed_columns,
                        :archive_table, :batch_size, :schedule, :legal_basis, keyword_init: true) do
      def to_h
        { table: table, keep_seconds: keep_seconds, timestamp_column: timestamp_column, where: where,
          action: action.to_s, columns: columns, hashed_columns: hashed_columns, archive_table: archive_table,
          batch_size: batch_size, schedule: schedule, legal_basis: legal_basis }
      end
    end

    ACTIONS = %i[delete archive anonymize keep].freeze
    UNITS = { "second" => 1, "minute" => 60, "hour" => 3600, "day" => 86_400, "week" => 604_800,
              "month" => 2_629_746, "year" => 31_556_952 }.freeze

    # What `Retention.define` evaluates: `table` and `subject` lines.
    class Definition
      attr_reader :policies, :subject_table

      def initialize
        @policies = {}
        @subject_table = "users"
      end

      # `keep:` a duration (90.days, or seconds, or "90 days") or
      # :account_lifetime; `action:`
      # :delete (default), :archive, :anonymize (with `columns:`, an Array of
      # columns set to NULL, or a Hash of column => :null or :hash) or :keep
      # (with `legal_basis:`).
      def table(name, keep: nil, action: :delete, where: nil, timestamp_column: :created_at, columns: [],
                archive_table: nil, batch_size: 1000, schedule: nil, legal_basis: nil)
        name = name.to_s
        action = action.to_sym
        unless ACTIONS.include?(action)
          raise ArgumentError, "#{name}: action must be one of #{ACTIONS.map(&:inspect).join(', ')}, got #{action.inspect}"
        end
        # :account_lifetime: kept while the account exists, erased with it;
        # nothing runs by age.
        lifetime = keep == :account_lifetime
        seconds = Retention.seconds(keep, name) unless keep.nil? || lifetime
        if seconds.nil? && !lifetime && action != :keep
          raise ArgumentError, "#{name}: keep: is required for #{action.inspect} (a duration, or :account_lifetime)"
        end
        raise ArgumentError, "#{name}: keep: needs legal_basis: (why the data is kept)" if action == :keep && legal_basis.to_s.strip.empty?
        columns, hashed = anonymized(name, columns)
        raise ArgumentError, "#{name}: anonymize needs columns:" if action == :anonymize && columns.empty?
        unless batch_size.is_a?(Integer) && batch_size.between?(1, 100_000)
          raise ArgumentError, "#{name}: batch_size must be an Integer in 1..100000, got #{batch_size.inspect}"
        end
        raise ArgumentError, "#{name}: where: must be SQL text" unless where.nil? || where.is_a?(String)

        @policies[name] = Policy.new(
          table: name, keep_seconds: seconds, timestamp_column: timestamp_column.to_s, where: where, action: action,
          columns: columns, hashed_columns: hashed,
          archive_table: action == :archive ? (archive_table || "#{name}_archive").to_s : nil,
          batch_size: batch_size, schedule: schedule&.to_s, legal_basis: legal_basis&.to_s
        )
      end

      # The table whose rows are the people data is about (users).
      def subject(name)
        @subject_table = name.to_s
      end

      private

      # [columns, hashed columns] from `columns:`.
      def anonymized(name, columns)
        return [Array(columns).map(&:to_s), []] unless columns.is_a?(Hash)

        columns.each do |column, how|
          next if %i[null hash].include?(how&.to_sym)

          raise ArgumentError, "#{name}: columns: #{column} must be :null or :hash, got #{how.inspect}"
        end
        [columns.keys.map(&:to_s), columns.select { |_, how| how.to_sym == :hash }.keys.map(&:to_s)]
      end
    end

    module_function

    # Seconds in a duration: an ActiveSupport::Duration, an Integer of
    # seconds, or text such as "90 days" / "2 years".
    def seconds(value, table = nil)
      case value
      when Integer then return value if value.positive?
      when String
        n, unit = value.strip.downcase.split(/\s+/, 2)
        factor = UNITS[unit.to_s.delete_suffix("s")]
        return Integer(n, 10) * factor if factor && n.match?(/\A\d+\z/) && n.to_i.positive?
      else
        return value.to_i if value.respond_to?(:to_i) && value.class.name == "ActiveSupport::Duration" && value.to_i.positive?
      end
      raise ArgumentError, "#{table}: keep: must be a positive duration (90.days, seconds, or \"90 days\"), " \
                           "got #{value.inspect}"
    end
  end
end
