// Test workspace (a LeanIX sandbox workspace). Used by .github/workflows/deploy.yml for the `test`
// environment. Smaller and cheaper than production; quality digests go to one trial address.
//
// NEVER put secret values here: they go into Key Vault (README, "Deploy to Azure").
using './main.bicep'

param baseName = 'lxtest'
param leanixHost = 'acme-sandbox.leanix.net'
param tags = {
  application: 'lx-functions'
  environment: 'test'
}

param maximumInstanceCount = 40
param instanceMemoryMB = 2048
param zoneRedundant = false
param storageSkuName = 'Standard_LRS'
param dataStorageSkuName = 'Standard_LRS'
param logRetentionInDays = 30

// A sandbox workspace shares its limit with people trying things out: leave them room.
param leanixRequestsPerMinute = 600

// Digests of a test run reach the team, never the owners.
param qualityDryRunTo = 'ea-team@acme.example'

param notifyEmailTo = 'ea-team@acme.example'
param slackChannel = true
param teamsChannel = false
param smtpHost = 'smtp.office365.com'
param smtpUsername = 'lx-functions-test@acme.example'
param smtpFromAddress = 'lx-functions-test@acme.example'

param webhookAuthorizationRotation = false
param secretsOfficerPrincipalId = ''

// Object id of the deployment workflow's service principal (az ad sp show --id <appId> --query id -o tsv):
// it may then read the two secrets `lx config apply` needs.
param deploymentPrincipalId = ''
