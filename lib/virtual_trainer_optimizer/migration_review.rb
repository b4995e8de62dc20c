# frozen_string_literal: true

module VirtualTrainerOptimizer
  # After migrations run (development by default: config.migration_review), says
  # what the migrations just run added that the index rules reject: a foreign
  # key column without an index, an index that an existing one makes
  # redundant. It compares the advice before and after the migration, so what
  # was there already is not repeated on every migrate.
  module MigrationReview
    KINDS = %i[missing_foreign_key_index redundant_index].freeze

    # Prepended to ActiveRecord::Migrator (by the Railtie, through
    # ActiveSupport.on_load(:active_record)): `migrate` is what db:migrate,
    # db:prepare, db:migrate:up/down and MigrationContext#up/down all run,
    # in every Rails version this gem supports.
    module Hook
      def migrate(*args, **kwargs, &block)
        return super unless MigrationReview.enabled?

        before = MigrationReview.guard { MigrationReview.snapshot }
        result = super
        MigrationReview.guard { MigrationReview.review(before) } if before
        result
      end
    end

    # Never lets the review break a migration: says why it was skipped.
    def self.guard
      yield
    rescue StandardError => e
      warn "[virtual_trainer_optimizer] migration review skipped: #{e.class}: #{e.message}"
      nil
    end

    module_function

    def enabled?
      VirtualTrainerOptimizer.config.migration_review && defined?(ActiveRecord::Base) ? true : false
    end

    # The advice now, as comparable keys.
    def snapshot(connection = ActiveRecord::Base.connection)
      require_relative "indexes"
      Indexes.analyze(connection: connection, kinds: KINDS, usage: false).map { |s| key(s) }
    end

    # The suggestions that were not there in `before`, and a message for each
    # (printed to `out` and logged).
    def review(before, connection = ActiveRecord::Base.connection, out: $stderr)
      require_relative "indexes"
      known = before.to_h { |k| [k, true] }
      fresh = Indexes.analyze(connection: connection, kinds: KINDS, usage: false).reject { |s| known[key(s)] }
      fresh.each do |s|
        line = "[virtual_trainer_optimizer] the migration #{added(s)}: #{s.reason}\n#{s.migration}"
        out&.puts(line)
        VirtualTrainerOptimizer.logger&.warn(line)
      end
      fresh
    end

    def key(suggestion)
      [suggestion.kind, suggestion.table, suggestion.columns, suggestion.index_name]
    end

    def added(suggestion)
      if suggestion.kind == :redundant_index
        "added #{suggestion.index_name}, which #{suggestion.covered_by} makes redundant"
      else
        "left #{suggestion.table}.#{suggestion.columns.join(', ')} without an index"
      end
    end
  end
end
