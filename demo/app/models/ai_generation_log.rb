# frozen_string_literal: true

class AiGenerationLog < ApplicationRecord
  belongs_to :user
end
