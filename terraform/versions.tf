# ---------------------------------------------------------------------------------------------
# Versions
# ---------------------------------------------------------------------------------------------

terraform {
  required_version = ">= 1.5"

  required_providers {
    aws = {
      source = "hashicorp/aws"
      # The 5.x line: the offline mirror ships 5.100.0; 6.x renames arguments used here.
      version = ">= 5.80, < 6.0"
    }
  }
}
