# frozen_string_literal: true

require "yaml"
require_relative "errors"

module VirtualTrainerOptimizer
  # The baseline file of strict mode (`.vto_baseline.yml`): findings the
  # project knows about and has parked. An entry is one fingerprint at one call
  # site — the app file and the method, not the line, so edits elsewhere in the
  # file keep it valid. Entries hold normalized SQL only, never values.
  class Baseline
    VERSION = 1
    HEADER = <<~YAML
      # virtual_trainer_optimizer strict-mode baseline: known findings, parked.
      # One entry per query fingerprint and call site (file and method; the line
      # is for reading only). Strict mode fails examples whose findings are not
      # listed here and reports entries that no longer occur.
      # Regenerate with `rake vto:baseline`; delete entries as you fix them.
    YAML

    Entry = Struct.new(:kind, :fingerprint, :path, :method_label, :line, :sql, :examples, keyword_init: true) do
      def key
        [kind.to_s, fingerprint.to_s, path.to_s, method_label.to_s]
      end

      def to_yaml_hash
        { "kind" => kind.to_s, "fingerprint" => fingerprint, "path" => path, "method" => method_label,
          "line" => line, "sql" => sql, "examples" => examples }.compact
      end

      def describe
        "#{kind} #{fingerprint} at #{path}#{":#{line}" if line}#{" in #{method_label}" if method_label}" \
          "#{" — #{sql}" if sql}"
      end
    end

    attr_reader :path, :entries

    def self.key_of(finding)
      [finding.kind.to_s, finding.fingerprint.to_s, finding.path.to_s, finding.method_label.to_s]
    end

    def self.entry_for(finding, examples: 1)
      line = finding.location && finding.location[/:(\d+)\z/, 1]&.to_i
      Entry.new(kind: finding.kind.to_s, fingerprint: finding.fingerprint, path: finding.path,
                method_label: finding.method_label, line: line, sql: finding.sql, examples: examples)
    end

    # Reads the file at `path`; a missing file is an empty baseline. A file
    # that is not a baseline raises Error naming the file and the problem.
    def self.load(path)
      return new(path, []) unless File.exist?(path)

      data = YAML.safe_load(File.read(path), permitted_classes: [], aliases: false)
      data = { "findings" => [] } if data.nil?
      unless data.is_a?(Hash) && data["findings"].is_a?(Array)
        raise Error, "#{path} is not a virtual_trainer_optimizer baseline: expected a `findings:` list"
      end
      if data.key?("version") && data["version"] != VERSION
        raise Error, "#{path}: baseline version #{data['version'].inspect} is not supported (expected #{VERSION})"
      end

      entries = data["findings"].each_with_index.map { |raw, i| parse_entry(path, raw, i) }
      new(path, entries)
    rescue Psych::Exception => e
      raise Error, "#{path} is not valid YAML: #{e.message}"
    end

    def self.parse_entry(path, raw, index)
      unless raw.is_a?(Hash) && raw["kind"].is_a?(String)
        raise Error, "#{path}: entry #{index + 1} is not a finding (it needs at least a `kind`)"
      end

      Entry.new(kind: raw["kind"], fingerprint: raw["fingerprint"], path: raw["path"], method_label: raw["method"],
                line: raw["line"], sql: raw["sql"], examples: raw["examples"])
    end
    private_class_method :parse_entry

    def initialize(path, entries)
      @path = path
      @entries = entries
      @index = entries.to_h { |e| [e.key, e] }
    end

    def include?(finding)
      @index.key?(self.class.key_of(finding))
    end

    def include_key?(key)
      @index.key?(key)
    end

    # Writes the entries, sorted so the file diffs well, through a temporary
    # file renamed into place (a failed write leaves the old file whole).
    def self.write(path, entries)
      sorted = entries.sort_by { |e| [e.path.to_s, e.method_label.to_s, e.kind.to_s, e.fingerprint.to_s] }
      body = HEADER + YAML.dump({ "version" => VERSION, "findings" => sorted.map(&:to_yaml_hash) })
      tmp = "#{path}.#{Process.pid}.tmp"
      File.write(tmp, body)
      File.rename(tmp, path)
    ensure
      File.unlink(tmp) if tmp && File.exist?(tmp)
    end
  end
end
