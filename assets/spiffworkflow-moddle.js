// Moddle descriptor for the SpiffWorkflow extension elements this engine reads (SpiffBpmnParser):
// spiffworkflow:properties/property (user-task forms), serviceTaskOperator/parameters/parameter,
// calledDecisionId, preScript, postScript, instructionsForEndUser. Unknown extension elements are kept as-is.
function body(name) {
  return { name, superClass: ['Element'], properties: [{ name: 'value', isBody: true, type: 'String' }] };
}

export default {
  name: 'SpiffWorkflow',
  uri: 'http://spiffworkflow.org/bpmn/schema/1.0/core',
  prefix: 'spiffworkflow',
  xml: { tagAlias: 'lowerCase' },
  associations: [],
  types: [
    {
      name: 'Properties',
      superClass: ['Element'],
      properties: [{ name: 'values', type: 'Property', isMany: true }]
    },
    {
      name: 'Property',
      superClass: ['Element'],
      properties: [
        { name: 'name', isAttr: true, type: 'String' },
        { name: 'value', isAttr: true, type: 'String' }
      ]
    },
    {
      name: 'ServiceTaskOperator',
      superClass: ['Element'],
      properties: [
        { name: 'id', isAttr: true, type: 'String' },
        { name: 'resultVariable', isAttr: true, type: 'String' },
        { name: 'parameterList', type: 'Parameters' }
      ]
    },
    {
      name: 'Parameters',
      superClass: ['Element'],
      properties: [{ name: 'parameters', type: 'Parameter', isMany: true }]
    },
    {
      name: 'Parameter',
      superClass: ['Element'],
      properties: [
        { name: 'id', isAttr: true, type: 'String' },
        { name: 'type', isAttr: true, type: 'String' },
        { name: 'value', isAttr: true, type: 'String' }
      ]
    },
    body('CalledDecisionId'),
    body('PreScript'),
    body('PostScript'),
    body('InstructionsForEndUser')
  ]
};
