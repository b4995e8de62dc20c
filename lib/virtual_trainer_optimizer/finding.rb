# frozen_string_literal: true

module VirtualTrainerOptimizer
  # One problem seen in a unit of work. `sql` is normalized (no literal
  # values); `location` is the innermost app frame, `path:line` relative to
  # the app root; `context` holds the outer app frames.
  class Finding
    SCOPE_KINDS = { request: :slow_request, job: :slow_job, scan: :slow_scan }.freeze
    BLOCK_PREFIX = /\A(?:block (?:\(\d+ levels\) )?in |rescue in |ensure in )+/.freeze
    EXTERNAL_KINDS = Configuration::EXTERNAL_KINDS
    EXTERNAL_FIELDS = %w[host method path model prompt_fingerprint hit_rate cost_usd cost_usd_per_month runs
                         reason].freeze

    attr_reader :kind, :fingerprint, :count, :sql, :location, :context, :suggestion, :priority,
                :total_ms, :max_ms, :db_ms, :scope_kind, :scope_name, :elapsed_ms, :table, :column

    # Builds the findings of a finished scope from the native data, drops the
    # allowlisted ones and adds the fix hints.
    def self.build_all(raw, scope, elapsed_ms)
      findings = raw.map { |data| new(data, scope, elapsed_ms) }
      findings.reject!(&:allowlisted?)
      return findings if findings.empty?

      hints = FixHint.new(scope)
      findings.each { |f| hints.apply(f) }
      findings
    end

    # A finding of the core's external-call analysis (External::Analysis):
    # `external` holds its host, method, path template, model, prompt
    # fingerprint, hit rate, costs, runs and the core's reason.
    def self.external(data, scope, elapsed_ms)
      allocate.tap { |f| f.send(:init_external, data, scope, elapsed_ms) }
    end

    def initialize(data, scope, elapsed_ms)
      kind = data["kind"].to_sym
      @kind = kind == :slow_scope ? SCOPE_KINDS.fetch(scope.kind, :slow_scan) : kind
      @fingerprint = data["fingerprint"]
      @count = data["count"]
      @sql = data["sql"]
      @native = scope.native
      @via_association = data["via_association"]
      frames = (data["frames"] || []).map { |path, line, label| [CallSite.relative(path), line, label] }
      @location = frames.first && "#{frames.first[0]}:#{frames.first[1]}"
      @path = frames.first&.first
      @method_label = frames.first && frames.first[2]&.to_s&.sub(BLOCK_PREFIX, "")
      @context = frames.drop(1).map { |path, line, label| "#{path}:#{line}#{" in #{label}" if label}" }
      @priority = data["priority"].to_sym
      @total_ms = data["total_ms"]
      @max_ms = data["max_ms"]
      @db_ms = data["db_ms"]
      @scope_kind = scope.kind
      @scope_name = scope.name
      @budget_ms = scope.budget_ms
      @view_ms = scope.view_ms
      @elapsed_ms = elapsed_ms
    end

    # The app file of the call site (location without the line) and the
    # method it is in ("Api::UsersController#index", blocks folded into their
    # method): a call site that survives edits elsewhere in the file.
    attr_reader :path, :method_label

    attr_writer :suggestion
    attr_accessor :table, :column
    # For a slow query on PostgreSQL with config.explain_slow_queries: the
    # core's analysis of its generic plan ("findings", "seq_scans",
    # "indexes_used", "total_cost", ...).
    attr_accessor :plan
    attr_reader :budget_ms, :view_ms
    # External-call findings only: { host:, method:, path:, model:, ... }.
    attr_reader :external

    def external?
      !@external.nil?
    end

    # The query's parsed shape (as SQL.analyze returns it), parsed on first use.
    def shape
      return @shape if defined?(@shape)

      @shape = fingerprint && @native&.shape(fingerprint)
    end

    def via_association?
      @via_association
    end

    def allowlisted?
      VirtualTrainerOptimizer.config.allowlist.any? do |entry|
        entry.all? do |key, want|
          case key
          when :kind then want == kind
          when :fingerprint then want == fingerprint
          when :sql then sql && (want.is_a?(Regexp) ? want.match?(sql) : sql.include?(want.to_s))
          when :location
            location && (want.is_a?(Regexp) ? want.match?(location) : location.start_with?(want.to_s))
          end
        end
      end
    end

    # One line for a log.
    def message
      head = case kind
             when :n_plus_one then "N+1 query: #{count} similar queries from one call site"
             when :bulk_write then "#{count} writes in a loop"
             when :duplicate_query then "duplicate query: the same SQL and values #{count} times"
             when :slow_query then "slow query: #{format('%.1f', max_ms)} ms"
             when *EXTERNAL_KINDS
               "#{kind.to_s.tr('_', ' ')}: #{external[:method]} #{external[:host]}#{external[:path]} — " \
               "#{external[:reason]}"
             else "#{scope_kind} over budget: #{format('%.0f', elapsed_ms)} ms (budget #{budget_ms&.round} ms, " \
                  "DB #{format('%.0f', db_ms)} ms#{", view #{format('%.0f', view_ms)} ms" if view_ms})"
             end
      parts = [head, ("in #{scope_name}" if scope_name)]
      parts << "at #{location}" if location
      parts << "— #{sql}" if sql
      parts << "— fix: #{suggestion}" if suggestion
      parts.compact.join(" ")
    end

    def to_h
      { kind: kind, fingerprint: fingerprint, count: count, sql: sql, location: location, context: context,
        suggestion: suggestion, priority: priority, total_ms: total_ms.round(3), max_ms: max_ms.round(3),
        db_ms: db_ms.round(3), scope_kind: scope_kind, scope_name: scope_name, elapsed_ms: elapsed_ms.round(3),
        table: table, column: column }.tap do |h|
        h[:plan_findings] = plan["findings"] if plan
        h[:external] = external if external
      end
    end

    def inspect
      "#<#{self.class.name} #{kind} #{priority} x#{count} #{location} #{sql}>"
    end
    alias to_s message

    private

    def init_external(data, scope, elapsed_ms)
      @kind = data["kind"].to_sym
      @count = data["count"]
      @location = data["location"]
      @path, = @location&.split(":", 2)
      @context = []
      @suggestion = data["suggestion"]
      @priority = data["priority"].to_sym
      @total_ms = data["total_ms"].to_f
      @max_ms = data["max_ms"].to_f
      @db_ms = 0.0
      @scope_kind = data["scope_kind"]&.to_sym || scope.kind
      @scope_name = data["scope_name"] || scope.name
      @budget_ms = scope.budget_ms
      @view_ms = scope.view_ms
      @elapsed_ms = elapsed_ms
      @external = EXTERNAL_FIELDS.to_h { |k| [k.to_sym, data[k]] }
    end
  end
end
