# frozen_string_literal: true

class Injury < ApplicationRecord
  belongs_to :user
end
